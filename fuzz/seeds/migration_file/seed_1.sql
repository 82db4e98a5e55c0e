INSERT INTO "users" ("email") VALUES ('admin@example.com');
