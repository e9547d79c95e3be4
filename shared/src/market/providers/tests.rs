//! Each provider's parser against replies in its documented formats (sources in each
//! provider's module comment).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::market::{BarTime, Instrument, Interval};

fn request(
    instrument: &Instrument,
    interval: Interval,
    from: &str,
    to: &str,
) -> BarsRequest<'static> {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    BarsRequest {
        instrument: Box::leak(Box::new(instrument.clone())),
        interval,
        from: at(from),
        to: at(to),
    }
}

fn reply(status: u16, body: &str) -> Reply {
    Reply { status, retry_after: None, body: body.to_owned() }
}

fn day(s: &str) -> BarTime {
    BarTime::Date(s.parse::<NaiveDate>().unwrap())
}

fn aapl() -> Instrument {
    Instrument::parse("AAPL").unwrap()
}

// node-yahoo-finance2 tests/fixtures/http/chart-AAPL-2020-01-01-to-2020-01-03.json (trimmed
// meta), with a second, halted session added in the form of yfinance's null rows.
const YAHOO_AAPL: &str = r#"{"chart":{"result":[{"meta":{"currency":"USD","symbol":"AAPL",
  "exchangeName":"NMS","gmtoffset":-18000,"timezone":"EST","exchangeTimezoneName":"America/New_York",
  "dataGranularity":"1d"},"timestamp":[1577975400,1578061800,1578321000],
  "indicators":{"quote":[{"close":[75.0875015258789,null,74.94999694824219],
  "low":[73.79750061035156,null,73.1875],"volume":[135480400,null,108872000],
  "open":[74.05999755859375,null,73.44750213623047],"high":[75.1500015258789,null,74.98999786376953]}],
  "adjclose":[{"adjclose":[72.71607208251953,null,72.57]}]}}],"error":null}}"#;

#[test]
fn yahoo_daily_bars_are_dated_on_the_exchanges_day_and_nulls_are_no_bar() {
    let req = request(&aapl(), Interval::Day, "2020-01-01T00:00:00Z", "2020-01-07T00:00:00Z");
    let bars = Yahoo::parse(&req, &reply(200, YAHOO_AAPL)).unwrap();
    assert_eq!(
        bars.iter().map(|b| b.time).collect::<Vec<_>>(),
        [day("2020-01-02"), day("2020-01-06")]
    );
    assert_eq!(bars[0].close, 75.0875015258789);
    assert_eq!(bars[1].volume, 108872000.0);
}

#[test]
fn yahoo_fx_stamped_at_london_midnight_in_summer_keeps_its_day() {
    // EURUSD=X daily bars are stamped 00:00 Europe/London: 23:00Z the day before in summer,
    // read with the winter offset (0) of a request made in January.
    let stamp = Utc.with_ymd_and_hms(2024, 7, 1, 23, 0, 0).unwrap().timestamp();
    let body = format!(
        r#"{{"chart":{{"result":[{{"meta":{{"gmtoffset":0,"exchangeTimezoneName":"Europe/London"}},
        "timestamp":[{stamp}],"indicators":{{"quote":[{{"open":[1.07],"high":[1.08],"low":[1.06],
        "close":[1.075],"volume":[0]}}]}}}}],"error":null}}}}"#
    );
    let fx = Instrument::parse("EURUSD").unwrap();
    let req = request(&fx, Interval::Day, "2024-07-01T00:00:00Z", "2024-07-03T00:00:00Z");
    assert_eq!(Yahoo::parse(&req, &reply(200, &body)).unwrap()[0].time, day("2024-07-02"));
}

#[test]
fn yahoo_faults_are_told_apart() {
    let req = request(&aapl(), Interval::Day, "2020-01-01T00:00:00Z", "2020-01-07T00:00:00Z");
    let not_found = r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#;
    assert!(matches!(
        Yahoo::parse(&req, &reply(404, not_found)),
        Err(ProviderError::UnknownSymbol { .. })
    ));
    let limited = Reply {
        status: 429,
        retry_after: Some(Duration::from_secs(7)),
        body: "Too Many Requests".into(),
    };
    assert_eq!(
        Yahoo::parse(&req, &limited),
        Err(ProviderError::Transient {
            provider: "yahoo",
            message: "rate limited (429)".into(),
            retry_after: Some(Duration::from_secs(7))
        })
    );
    let empty = r#"{"chart":{"result":[{"meta":{"gmtoffset":-18000},"indicators":{"quote":[{}]}}],"error":null}}"#;
    assert_eq!(Yahoo::parse(&req, &reply(200, empty)), Ok(vec![]));
    let bad_request = r#"{"chart":{"result":null,"error":{"code":"Bad Request","description":"Invalid input - interval=45m is not supported."}}}"#;
    assert!(matches!(
        Yahoo::parse(&req, &reply(400, bad_request)),
        Err(ProviderError::Refused { .. })
    ));
    for body in ["<html><body>Oops</body></html>", "", r#"{"chart":{}}"#] {
        let err = Yahoo::parse(&req, &reply(200, body)).unwrap_err();
        assert!(matches!(err, ProviderError::Malformed { .. }), "{body}: {err}");
        assert!(err.to_string().starts_with("yahoo sent a reply"), "{err}");
    }
    let short = YAHOO_AAPL
        .replace("\"close\":[75.0875015258789,null,74.94999694824219]", "\"close\":[75.0]");
    assert!(matches!(
        Yahoo::parse(&req, &reply(200, &short)),
        Err(ProviderError::Malformed { .. })
    ));
    let twice = YAHOO_AAPL.replace("1578321000", "1577975400");
    let err = Yahoo::parse(&req, &reply(200, &twice)).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    let negative = YAHOO_AAPL.replace("75.0875015258789", "-1");
    assert!(matches!(
        Yahoo::parse(&req, &reply(200, &negative)),
        Err(ProviderError::Malformed { .. })
    ));
    assert!(
        Yahoo::parse(&req, &reply(502, "<html>Bad gateway</html>")).unwrap_err().is_transient()
    );
}

#[test]
fn yahoo_urls_escape_the_symbol() {
    let yahoo = Yahoo { base_url: "http://127.0.0.1:9/".into() };
    let index = Instrument::parse("^GSPC").unwrap();
    let req = request(&index, Interval::Hour, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z");
    let url = yahoo.url(&index.yahoo(), &req);
    assert!(url.starts_with("http://127.0.0.1:9/v8/finance/chart/%5EGSPC?period1=1704067200&period2=1704153601&interval=1h"), "{url}");
}

fn btc() -> Instrument {
    Instrument::parse("BTCUSD").unwrap()
}

// binance-spot-api-docs rest-api.md, "Kline/Candlestick data" (the documented row, twice, on
// consecutive days).
const BINANCE_KLINES: &str = r#"[
  [1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499126399999,"2434.19055334",308,"1756.87402397","28.46694368","0"],
  [1499126400000,"0.01577100","0.01600000","0.01500000","0.01590000","1000.5",1499212799999,"15.9",12,"500","8","0"]
]"#;

#[test]
fn binance_klines_become_bars_dated_in_utc() {
    let req = request(&btc(), Interval::Day, "2017-07-03T00:00:00Z", "2017-07-05T00:00:00Z");
    let bars = Binance::parse(&req, &reply(200, BINANCE_KLINES)).unwrap();
    assert_eq!(
        bars.iter().map(|b| b.time).collect::<Vec<_>>(),
        [day("2017-07-03"), day("2017-07-04")]
    );
    assert_eq!((bars[0].open, bars[0].high, bars[0].volume), (0.0163479, 0.8, 148976.11427815));
    let hourly = request(&btc(), Interval::Hour, "2017-07-03T00:00:00Z", "2017-07-05T00:00:00Z");
    assert_eq!(
        Binance::parse(&hourly, &reply(200, BINANCE_KLINES)).unwrap()[1].time.to_string(),
        "2017-07-04T00:00:00"
    );
    assert_eq!(Binance::next_page(&bars), None);
}

#[test]
fn binance_faults_are_told_apart() {
    let req = request(&btc(), Interval::Day, "2017-07-03T00:00:00Z", "2017-07-05T00:00:00Z");
    let unknown = Binance::parse(&req, &reply(400, r#"{"code":-1121,"msg":"Invalid symbol."}"#));
    assert_eq!(
        unknown,
        Err(ProviderError::UnknownSymbol { provider: "binance", symbol: "BTCUSDT".into() })
    );
    let banned = Reply {
        status: 418,
        retry_after: Some(Duration::from_secs(120)),
        body: r#"{"code":-1003,"msg":"Way too much request weight used; IP banned until 1660090423228."}"#.into(),
    };
    assert!(matches!(
        Binance::parse(&req, &banned),
        Err(ProviderError::Transient { retry_after: Some(_), .. })
    ));
    let restricted = r#"{"code":0,"msg":"Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/terms."}"#;
    assert!(matches!(
        Binance::parse(&req, &reply(451, restricted)),
        Err(ProviderError::Refused { .. })
    ));
    for body in [
        "{}",
        "[[1499040000000,1.0,2.0,0.5,1.5,\"1\"]]",
        "[[\"x\"]]",
        "<html></html>",
        "[[1499040000000,\"NaN\",\"1\",\"1\",\"1\",\"1\"]]",
    ] {
        assert!(
            matches!(Binance::parse(&req, &reply(200, body)), Err(ProviderError::Malformed { .. })),
            "{body}"
        );
    }
    let reversed = r#"[
  [1499126400000,"0.01577100","0.01600000","0.01500000","0.01590000","1000.5",1499212799999,"15.9",12,"500","8","0"],
  [1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499126399999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#;
    let err = Binance::parse(&req, &reply(200, reversed)).unwrap_err();
    assert!(err.to_string().contains("out of order"), "{err}");
}

fn alpha() -> AlphaVantage {
    AlphaVantage { base_url: "http://127.0.0.1:9".into(), api_key: "SECRETKEY123".into() }
}

// A TIME_SERIES_DAILY reply as recorded for IBM (2023-11-28), newest first.
const AV_DAILY: &str = r#"{"Meta Data": {"1. Information": "Daily Prices (open, high, low, close) and Volumes",
   "2. Symbol": "IBM", "3. Last Refreshed": "2023-11-28", "4. Output Size": "Compact", "5. Time Zone": "US/Eastern"},
 "Time Series (Daily)": {
   "2023-11-28": {"1. open": "155.4400", "2. high": "155.7450", "3. low": "154.8600", "4. close": "155.6500", "5. volume": "2666182"},
   "2023-11-27": {"1. open": "154.9900", "2. high": "156.1350", "3. low": "154.7500", "4. close": "155.5700", "5. volume": "4053093"}}}"#;

#[test]
fn alpha_vantage_series_of_every_kind_become_bars_oldest_first() {
    let ibm = Instrument::parse("IBM").unwrap();
    let req = request(&ibm, Interval::Day, "2023-11-01T00:00:00Z", "2023-11-30T00:00:00Z");
    let bars = alpha().parse(&req, &reply(200, AV_DAILY)).unwrap();
    assert_eq!(
        bars.iter().map(|b| b.time).collect::<Vec<_>>(),
        [day("2023-11-27"), day("2023-11-28")]
    );
    assert_eq!(bars[1].volume, 2666182.0);
    // FX_DAILY (EUR/USD, 2026-01-23): no volume.
    let fx_body = r#"{"Meta Data": {"1. Information": "Forex Daily Prices (open, high, low, close)", "2. From Symbol": "EUR",
       "3. To Symbol": "USD", "4. Output Size": "Compact", "5. Last Refreshed": "2026-01-23", "6. Time Zone": "UTC"},
     "Time Series FX (Daily)": {"2026-01-23": {"1. open": "1.17520", "2. high": "1.18330", "3. low": "1.17270", "4. close": "1.18260"}}}"#;
    let fx = Instrument::parse("EURUSD").unwrap();
    let req = request(&fx, Interval::Day, "2026-01-01T00:00:00Z", "2026-01-30T00:00:00Z");
    let bars = alpha().parse(&req, &reply(200, fx_body)).unwrap();
    assert_eq!((bars[0].close, bars[0].volume), (1.1826, 0.0));
    // DIGITAL_CURRENCY_DAILY, the shape before 2024 (market CNY, then USD).
    let old_crypto = r#"{"Meta Data": {"7. Time Zone": "UTC"}, "Time Series (Digital Currency Daily)": {"2023-09-14": {
       "1a. open (CNY)": "189000.1", "1b. open (USD)": "26000.0", "2a. high (CNY)": "190000.0", "2b. high (USD)": "26500.0",
       "3a. low (CNY)": "188000.0", "3b. low (USD)": "25900.0", "4a. close (CNY)": "189500.0", "4b. close (USD)": "26100.0",
       "5. volume": "12.5", "6. market cap (USD)": "12.5"}}}"#;
    let req = request(&btc(), Interval::Day, "2023-09-01T00:00:00Z", "2023-09-30T00:00:00Z");
    assert_eq!(alpha().parse(&req, &reply(200, old_crypto)).unwrap()[0].open, 189000.1);
}

#[test]
fn alpha_vantage_refusals_come_as_200_and_never_carry_the_key() {
    let ibm = Instrument::parse("IBMX").unwrap();
    let req = request(&ibm, Interval::Day, "2023-11-01T00:00:00Z", "2023-11-30T00:00:00Z");
    let unknown = r#"{"Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}"#;
    assert!(matches!(
        alpha().parse(&req, &reply(200, unknown)),
        Err(ProviderError::UnknownSymbol { .. })
    ));
    let daily = r#"{"Information": "We have detected your API key as SECRETKEY123 and our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}"#;
    let burst = r#"{"Information": "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly (1 request per second)."}"#;
    let legacy = r#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}"#;
    for body in [daily, burst, legacy] {
        let err = alpha().parse(&req, &reply(200, body)).unwrap_err();
        assert!(err.is_transient(), "{body}");
        assert!(!err.to_string().contains("SECRETKEY123"), "{err}");
    }
    let bad_key = r#"{"Error Message": "the parameter apikey is invalid or missing. Your key SECRETKEY123 ..."}"#;
    let err = alpha().parse(&req, &reply(200, bad_key)).unwrap_err();
    assert!(
        matches!(err, ProviderError::Refused { .. }) && !err.to_string().contains("SECRETKEY123"),
        "{err}"
    );
    let premium = r#"{"Information": "Thank you for using Alpha Vantage! The outputsize=full parameter value is a premium feature for the TIME_SERIES_DAILY endpoint."}"#;
    assert!(matches!(
        alpha().parse(&req, &reply(200, premium)),
        Err(ProviderError::Refused { .. })
    ));
    for body in
        ["{}", "[]", "<html>", r#"{"Time Series (Daily)": {"2023-11-28": {"1. open": "x"}}}"#]
    {
        assert!(
            matches!(alpha().parse(&req, &reply(200, body)), Err(ProviderError::Malformed { .. })),
            "{body}"
        );
    }
    assert!(!format!("{:?}", alpha()).contains("SECRETKEY123"));
}

#[test]
fn alpha_vantage_serves_no_indices_and_no_hourly_bars() {
    let index = Instrument::parse("^GSPC").unwrap();
    assert_eq!(AlphaVantage::symbol(&index), None);
    let req = request(&aapl(), Interval::Hour, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z");
    assert_eq!(alpha().url(&req), None);
}

#[test]
fn yahoo_hourly_bars_keep_their_utc_instant() {
    let req = request(&aapl(), Interval::Hour, "2020-01-01T00:00:00Z", "2020-01-07T00:00:00Z");
    let bars = Yahoo::parse(&req, &reply(200, YAHOO_AAPL)).unwrap();
    assert_eq!(bars[0].time.to_string(), "2020-01-02T14:30:00");
    assert_eq!(bars.len(), 2, "the null row is no bar");
}
