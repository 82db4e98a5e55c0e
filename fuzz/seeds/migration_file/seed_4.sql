-- bluefox: branch a
-- parent: 20260101000000
-- bluefox:up
SELECT 1;
-- bluefox:down
SELECT 1;
