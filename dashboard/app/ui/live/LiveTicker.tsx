"use client";
import { useState } from "react";
import { useStream } from "./useStream";
import { age, price, bp } from "../format";

export interface TickerQuote {
  venue: string;
  symbol: string;
  bid: number | null;
  ask: number | null;
  last: number | null;
  ts: string | null;
  dir: "up" | "down" | null;
  count: number;
}

/** Live best bid/ask/last per venue and symbol from the sidecar (channels ticker:<venue>:<symbol>). */
export function LiveTicker({ url, markets, onLast }: { url: string; markets: { venue: string; symbol: string }[]; onLast?: (venue: string, symbol: string, last: number) => void }) {
  const channels = markets.map((m) => `ticker:${m.venue}:${m.symbol}`);
  const [quotes, setQuotes] = useState<Record<string, TickerQuote>>(() =>
    Object.fromEntries(markets.map((m) => [`${m.venue}:${m.symbol}`, { venue: m.venue, symbol: m.symbol, bid: null, ask: null, last: null, ts: null, dir: null, count: 0 }])),
  );
  const { state, error } = useStream(url, channels, (channel, data) => {
    if (!channel.startsWith("ticker:")) return;
    const key = channel.slice("ticker:".length);
    const bid = typeof data.bid === "number" ? data.bid : null;
    const ask = typeof data.ask === "number" ? data.ask : null;
    // some venue channels carry only the book: show the mid then
    const last = typeof data.last === "number" ? data.last : bid !== null && ask !== null ? (bid + ask) / 2 : null;
    setQuotes((q) => {
      const prev = q[key];
      const dir = prev?.last != null && last != null ? (last > prev.last ? "up" : last < prev.last ? "down" : prev.dir) : null;
      return {
        ...q,
        [key]: {
          venue: String(data.venue ?? prev?.venue ?? ""),
          symbol: String(data.symbol ?? prev?.symbol ?? ""),
          bid,
          ask,
          last,
          ts: typeof data.ts === "string" ? data.ts : null,
          dir,
          count: (prev?.count ?? 0) + 1,
        },
      };
    });
    if (last != null && onLast) {
      const [venue, ...rest] = key.split(":");
      onLast(venue!, rest.join(":"), last);
    }
  });
  return (
    <div data-testid="live-ticker">
      <div className={`status ${state}`} data-stream-state={state}>
        live stream {state} ({url}){error ? ` — ${error}` : ""}
      </div>
      <div className="ticker">
        {Object.entries(quotes).map(([key, q]) => {
          const spread = q.bid != null && q.ask != null && q.ask > 0 ? (q.ask - q.bid) / ((q.ask + q.bid) / 2) : null;
          return (
            <div key={key} className={`quote ${q.dir ? `flash-${q.dir}` : ""}`} data-ticker={key} data-last={q.last ?? ""} data-ticks={q.count}>
              <div className="status">{key}</div>
              <b>{price(q.last)}</b>
              <div className="status">
                bid {price(q.bid)} · ask {price(q.ask)} · spread {bp(spread)}
              </div>
              <div className="status">{q.ts ? `tick ${age(q.ts)}` : "waiting for the first tick"}</div>
            </div>
          );
        })}
      </div>
    </div>
  );
}
