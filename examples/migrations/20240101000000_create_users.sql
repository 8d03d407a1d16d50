-- Users of the application.
CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    name       text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Lookups by e-mail are case-insensitive.
CREATE INDEX users_email_lower ON users (lower(email));
