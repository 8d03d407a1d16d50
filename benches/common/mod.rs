//! What the benchmarks' data generators share: a seeded random source and a
//! word list, so that every run measures the same bytes.

/// xorshift64*: deterministic, good enough for picking words.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Words for table, column and value names.
pub const WORDS: &[&str] = &[
    "account", "order", "invoice", "customer", "payment", "shipment", "ledger", "tenant", "product", "review",
    "session", "audit", "region", "price", "status", "address", "token", "event", "quota", "report",
];
