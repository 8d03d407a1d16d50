CREATE TABLE invoices (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  number TEXT NOT NULL UNIQUE,
  amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
  issued_at TEXT NOT NULL,
  paid_at TEXT
);
CREATE INDEX invoices_customer ON invoices (customer_id, issued_at);
CREATE INDEX invoices_unpaid ON invoices (issued_at) WHERE paid_at IS NULL;
