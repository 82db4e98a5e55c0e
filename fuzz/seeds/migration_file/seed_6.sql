SELECT 'refinery never reads this file: its name does not start with a capital V';
