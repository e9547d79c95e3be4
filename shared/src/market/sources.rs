//! `MARKET_DATA_PROVIDERS` and each provider's settings: the ordered chain a job's bars are
//! looked for in.

use std::{collections::HashMap, time::Duration};

use super::providers::{AlphaVantage, Binance, Provider, RetryPolicy, Yahoo};
use crate::config::{ConfigError, Env, seconds, secret, settings::*};

/// One link of the chain.
#[derive(Debug, Clone)]
pub enum Source {
    /// `DATA_DIR/<SYMBOL>.csv`.
    Csv,
    Online(Provider),
}

impl Source {
    pub fn name(&self) -> &'static str {
        match self {
            Source::Csv => "csv",
            Source::Online(p) => p.name(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MarketDataConfig {
    pub chain: Vec<Source>,
    pub per_minute: HashMap<&'static str, u32>,
    pub max_age: Duration,
    pub policy: RetryPolicy,
}

impl MarketDataConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let raw: String = env.parse(&MARKET_DATA_PROVIDERS)?;
        let key = secret(env, &ALPHAVANTAGE_API_KEY, &ALPHAVANTAGE_API_KEY_FILE)?;
        let mut chain = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let source = match name {
                "csv" => Source::Csv,
                "yahoo" => {
                    Source::Online(Provider::Yahoo(Yahoo { base_url: env.parse(&YAHOO_URL)? }))
                }
                "binance" => Source::Online(Provider::Binance(Binance {
                    base_url: env.parse(&BINANCE_URL)?,
                })),
                // Without a key the provider cannot answer: it is left out, as documented.
                "alphavantage" => match &key {
                    Some(api_key) => Source::Online(Provider::AlphaVantage(AlphaVantage {
                        base_url: env.parse(&ALPHAVANTAGE_URL)?,
                        api_key: api_key.clone(),
                    })),
                    None => continue,
                },
                _ => {
                    return Err(ConfigError::invalid(
                        &MARKET_DATA_PROVIDERS,
                        &raw,
                        "a comma-separated list of csv, yahoo, binance, alphavantage",
                    ));
                }
            };
            if chain.iter().any(|s: &Source| s.name() == source.name()) {
                return Err(ConfigError::invalid(
                    &MARKET_DATA_PROVIDERS,
                    &raw,
                    "each provider once",
                ));
            }
            chain.push(source);
        }
        let mut per_minute = HashMap::new();
        for (name, setting) in [
            (Yahoo::NAME, &YAHOO_REQUESTS_PER_MINUTE),
            (Binance::NAME, &BINANCE_REQUESTS_PER_MINUTE),
            (AlphaVantage::NAME, &ALPHAVANTAGE_REQUESTS_PER_MINUTE),
        ] {
            let n: u32 = env.parse(setting)?;
            if n == 0 {
                return Err(ConfigError::invalid(setting, &n, "at least 1"));
            }
            per_minute.insert(name, n);
        }
        let policy = RetryPolicy {
            timeout: seconds(env, &MARKET_DATA_TIMEOUT_S)?,
            ..RetryPolicy::default()
        };
        Ok(Self { chain, per_minute, max_age: seconds(env, &MARKET_DATA_MAX_AGE_S)?, policy })
    }

    /// `DATA_DIR` files only, the other settings at their defaults.
    pub fn offline() -> Self {
        let env = Env::from_pairs([("MARKET_DATA_PROVIDERS".to_owned(), "csv".to_owned())]);
        Self::from_env(&env).expect("the defaults are valid")
    }

    /// Whether any link reaches out to a provider.
    pub fn is_online(&self) -> bool {
        self.chain.iter().any(|s| matches!(s, Source::Online(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<MarketDataConfig, ConfigError> {
        MarketDataConfig::from_env(&Env::from_pairs(
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        ))
    }

    #[test]
    fn the_chain_keeps_the_order_given_and_skips_alpha_vantage_without_a_key() {
        let names = |c: MarketDataConfig| c.chain.iter().map(Source::name).collect::<Vec<_>>();
        assert_eq!(names(config(&[]).unwrap()), ["csv", "yahoo", "binance"]);
        let keyed = config(&[
            ("MARKET_DATA_PROVIDERS", "binance, alphavantage,csv"),
            ("ALPHAVANTAGE_API_KEY", "k"),
        ]);
        assert_eq!(names(keyed.unwrap()), ["binance", "alphavantage", "csv"]);
        let offline = config(&[("MARKET_DATA_PROVIDERS", "csv")]).unwrap();
        assert!(!offline.is_online());
        for bad in ["stooq", "csv,csv"] {
            let err = config(&[("MARKET_DATA_PROVIDERS", bad)]).unwrap_err();
            assert!(err.to_string().starts_with("MARKET_DATA_PROVIDERS="), "{err}");
        }
        assert!(config(&[("YAHOO_REQUESTS_PER_MINUTE", "0")]).is_err());
    }
}
