//! Symbols as users type them, and how each provider spells them: the one place that knows.
//!
//! | user types              | kind   | yahoo      | binance   | alphavantage                 |
//! |-------------------------|--------|------------|-----------|------------------------------|
//! | `NVDA`, `BRK.B`, `BRK-B`| equity | `BRK-B`    | —         | `BRK.B`                      |
//! | `^GSPC`                 | index  | `^GSPC`    | —         | —                            |
//! | `EURUSD`, `EUR/USD`     | fx     | `EURUSD=X` | —         | `FX_*` from `EUR` to `USD`   |
//! | `BTCUSD`, `BTC-USD`     | crypto | `BTC-USD`  | `BTCUSDT` | `DIGITAL_CURRENCY_*` `BTC` in `USD` |
//!
//! Binance has no US-dollar pairs: `USD` is served by its `USDT` (tether) pairs, which track the
//! dollar to within a fraction of a percent; the job's result records the pair used.

/// Currencies recognised in six-letter FX pairs (ISO 4217: the majors and the usual crosses).
const FIAT: &[&str] = &[
    "USD", "EUR", "JPY", "GBP", "CHF", "AUD", "CAD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "TRY", "ZAR", "MXN", "BRL", "CNY", "CNH", "HKD", "SGD", "INR", "KRW",
];

/// Crypto assets recognised as the base of a pair (`BTCUSD`, `ETH-EUR`).
const CRYPTO: &[&str] = &[
    "BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LTC", "AVAX", "LINK", "TRX", "BCH",
    "XLM", "ATOM", "UNI", "ETC", "FIL", "NEAR", "APT",
];

/// Quote currencies of crypto pairs.
const CRYPTO_QUOTES: &[&str] = &["USD", "USDT", "USDC", "EUR", "BTC", "ETH"];

/// What a symbol names, with its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instrument {
    /// A share or a fund, with `.` as class separator (`BRK.B`).
    Equity(String),
    /// An index, caret included (`^GSPC`).
    Index(String),
    Fx {
        base: String,
        quote: String,
    },
    Crypto {
        base: String,
        quote: String,
    },
}

impl Instrument {
    /// Reads a symbol as users type it. `None` when it cannot be a symbol at all.
    pub fn parse(symbol: &str) -> Option<Self> {
        let s = symbol.trim().to_ascii_uppercase();
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/' | '^' | '=');
        if s.is_empty() || s.len() > 20 || !s.chars().all(valid) {
            return None;
        }
        if let Some(rest) = s.strip_prefix('^') {
            return (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()))
                .then(|| Instrument::Index(s.clone()));
        }
        let pair = split_pair(&s);
        if let Some((base, quote)) = &pair {
            if CRYPTO.contains(&base.as_str()) && CRYPTO_QUOTES.contains(&quote.as_str()) {
                return Some(Instrument::Crypto { base: base.clone(), quote: quote.clone() });
            }
            if FIAT.contains(&base.as_str()) && FIAT.contains(&quote.as_str()) {
                return Some(Instrument::Fx { base: base.clone(), quote: quote.clone() });
            }
        }
        if s.contains(['/', '=']) || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return None;
        }
        Some(Instrument::Equity(s.replace('-', ".")))
    }

    /// The spelling every cache row and log line uses: `NVDA`, `BRK.B`, `^GSPC`, `EURUSD`,
    /// `BTCUSD`.
    pub fn canonical(&self) -> String {
        match self {
            Instrument::Equity(s) | Instrument::Index(s) => s.clone(),
            Instrument::Fx { base, quote } | Instrument::Crypto { base, quote } => {
                format!("{base}{quote}")
            }
        }
    }

    pub fn yahoo(&self) -> String {
        match self {
            Instrument::Equity(s) => s.replace('.', "-"),
            Instrument::Index(s) => s.clone(),
            Instrument::Fx { base, quote } => format!("{base}{quote}=X"),
            Instrument::Crypto { base, quote } => format!("{base}-{quote}"),
        }
    }

    /// Binance spot pair, crypto only; `USD` becomes `USDT` (see the module's table).
    pub fn binance(&self) -> Option<String> {
        match self {
            Instrument::Crypto { base, quote } => {
                let quote = if quote == "USD" { "USDT" } else { quote };
                Some(format!("{base}{quote}"))
            }
            _ => None,
        }
    }
}

/// `EURUSD`, `EUR/USD`, `EUR-USD`, `BTCUSDT` → (base, quote), for three-letter bases.
fn split_pair(s: &str) -> Option<(String, String)> {
    if let Some((base, quote)) = s.split_once(['/', '-']) {
        return Some((base.to_owned(), quote.to_owned()));
    }
    (s.len() >= 6 && s.is_char_boundary(3)).then(|| (s[..3].to_owned(), s[3..].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::Instrument;

    #[test]
    fn symbols_as_users_type_them_map_to_each_providers_spelling() {
        let cases = [
            ("NVDA", "NVDA", "NVDA", None),
            ("brk.b", "BRK.B", "BRK-B", None),
            ("BRK-B", "BRK.B", "BRK-B", None),
            ("^GSPC", "^GSPC", "^GSPC", None),
            ("EURUSD", "EURUSD", "EURUSD=X", None),
            ("EUR/USD", "EURUSD", "EURUSD=X", None),
            ("BTCUSD", "BTCUSD", "BTC-USD", Some("BTCUSDT")),
            ("BTC-USD", "BTCUSD", "BTC-USD", Some("BTCUSDT")),
            ("ETHUSDT", "ETHUSDT", "ETH-USDT", Some("ETHUSDT")),
        ];
        for (typed, canonical, yahoo, binance) in cases {
            let i = Instrument::parse(typed).unwrap_or_else(|| panic!("{typed}"));
            assert_eq!(i.canonical(), canonical, "{typed}");
            assert_eq!(i.yahoo(), yahoo, "{typed}");
            assert_eq!(i.binance().as_deref(), binance, "{typed}");
        }
    }

    #[test]
    fn what_cannot_be_a_symbol_is_refused() {
        for bad in ["", "^", "A B", "../etc", "NVDA=X", "X/Y", "a\u{e9}", "ABCDEFGHIJKLMNOPQRSTU"] {
            assert_eq!(Instrument::parse(bad), None, "{bad:?}");
        }
    }
}
