-- bluefox: add users and posts
-- parent: base
-- bluefox:up
CREATE TABLE "posts" (
    "id" INTEGER PRIMARY KEY,
    "author_id" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "published" INTEGER NOT NULL DEFAULT 0 CHECK ("published" IN (0, 1)),
    CONSTRAINT "fk_posts_author_id_users" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "users" (
    "id" INTEGER PRIMARY KEY,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "bio" TEXT,
    "nickname" TEXT,
    CONSTRAINT "uq_users_email" UNIQUE ("email")
);

CREATE INDEX "ix_posts_author_id_published" ON "posts" ("author_id", "published");
-- bluefox:down
DROP TABLE "users";

DROP TABLE "posts";
