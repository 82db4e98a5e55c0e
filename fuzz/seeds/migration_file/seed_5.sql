-- bluefox: branch b
-- parent: 20260101000000
-- bluefox:up
SELECT 2;
-- bluefox:down
SELECT 2;
