-- Bars fetched from online providers, kept so that the next job on a symbol asks for nothing,
-- or only for what is newer.

-- One row per provider, symbol (as Tradeforge spells it: NVDA, BRK.B, ^GSPC, EURUSD, BTCUSD)
-- and interval: what was fetched, and when.
CREATE TABLE market_series (
    provider        text NOT NULL,
    symbol          text NOT NULL,
    interval        text NOT NULL CHECK (interval IN ('1d', '1h')),
    provider_symbol text NOT NULL,                 -- as the provider spells it (BRK-B, EURUSD=X, BTCUSDT)
    fetched_from    timestamp NOT NULL,            -- the span asked for starts here (naive UTC) ...
    fetched_to      timestamp NOT NULL,            -- ... and reaches here: bars inside it are all held
    fetched_at      timestamptz NOT NULL,
    bars            integer NOT NULL,
    first_bar       timestamp,
    last_bar        timestamp,
    PRIMARY KEY (provider, symbol, interval)
);

-- Daily bars are at 00:00 of their date; hourly bars at their start, naive UTC.
CREATE TABLE market_bars (
    provider text NOT NULL,
    symbol   text NOT NULL,
    interval text NOT NULL,
    time     timestamp NOT NULL,
    open     double precision NOT NULL,
    high     double precision NOT NULL,
    low      double precision NOT NULL,
    close    double precision NOT NULL,
    volume   double precision NOT NULL,
    PRIMARY KEY (provider, symbol, interval, time),
    FOREIGN KEY (provider, symbol, interval) REFERENCES market_series ON DELETE CASCADE
);
