-- bluefox: add user nickname
-- parent: 20261130070534
-- bluefox:up
ALTER TABLE "users" ADD COLUMN "nickname" TEXT;
-- bluefox:down
ALTER TABLE "users" DROP COLUMN "nickname";
