"use client";
import { useState } from "react";
import { CandleChart, type CandleDatum } from "../chart/CandleChart";
import { LineChart } from "../chart/LineChart";
import { LiveTicker } from "../live/LiveTicker";
import { Panel } from "../shell/Panel";
import { bp, pct, utc } from "../format";

interface SeriesData {
  key: string;
  label: string;
  points: { ts: string; value: number }[];
}

export function OverviewCharts(props: {
  venue: string;
  symbol: string;
  quote: string;
  base: string;
  candles: CandleDatum[];
  bucketSeconds: number;
  source: string;
  funding: SeriesData[];
  basis: SeriesData[];
  streamUrl: string;
  tickerMarkets: { venue: string; symbol: string }[];
}) {
  const [live, setLive] = useState<number | null>(null);
  const toLines = (s: SeriesData[]) => s.map((x) => ({ key: x.key, label: x.label, points: x.points.map((p) => ({ x: Date.parse(p.ts), y: p.value })), mode: "both" as const }));
  return (
    <div className="grid">
      <Panel title="Live ticker" note="Best bid/ask and last trade from the streaming sidecar (WebSocket)." wide>
        <LiveTicker url={props.streamUrl} markets={props.tickerMarkets} onLast={(v, s, last) => v === props.venue && s === props.symbol && setLive(last)} />
      </Panel>
      <Panel title={`${props.venue} ${props.symbol} candles`} note={`One candle = ${fmtBucket(props.bucketSeconds)} (built from ${props.source} bars); volume in ${props.base}.`} wide>
        <CandleChart name="candles" candles={props.candles} bucketSeconds={props.bucketSeconds} quote={props.quote} base={props.base} live={live} />
      </Panel>
      <Panel title={`${props.base} funding across venues`} note="Annualised: rate per interval × 24 × 365 / interval hours.">
        <LineChart name="funding" series={toLines(props.funding)} xType="time" xLabel="time (UTC)" yLabel="funding APR (%)" xFormat={(v) => utc(v)} yFormat={(v) => pct(v, 1)} includeZero
          empty={{ title: "No funding rates", detail: "Run the funding ingestion (derivs__ingest_funding_oi) for this window." }} />
      </Panel>
      <Panel title={`${props.base} futures basis across venues`} note="Basis = mark / index − 1 per perpetual and dated future.">
        <LineChart name="basis" series={toLines(props.basis)} xType="time" xLabel="time (UTC)" yLabel="basis (bp)" xFormat={(v) => utc(v)} yFormat={(v) => bp(v, 0)} includeZero
          empty={{ title: "No futures quotes", detail: "Run the futures-quote snapshot (derivs__ingest_funding_oi)." }} />
      </Panel>
    </div>
  );
}

function fmtBucket(s: number): string {
  if (s % 86400 === 0) return `${s / 86400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  return `${s / 60} min`;
}
