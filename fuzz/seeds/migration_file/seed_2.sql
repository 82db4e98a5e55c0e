-- bluefox: add users
-- parent: base
-- bluefox:up
CREATE TABLE "users" ("id" BIGINT NOT NULL, "email" TEXT NOT NULL);
-- bluefox:down
DROP TABLE "users";
