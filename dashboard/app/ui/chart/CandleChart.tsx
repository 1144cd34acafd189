"use client";
import { scaleLinear } from "d3";
import { useState } from "react";
import { Axes } from "./Axes";
import { DEFAULT_MARGINS, innerSize, nearestIndex, xTime, yScale } from "./scales";
import { EmptyState, Tooltip, type TooltipState } from "./Tooltip";
import { useWidth } from "./useWidth";
import { compact, price, utc } from "../format";

export interface CandleDatum {
  ts: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Candles (price, quote currency) over volume bars (base units), sharing the UTC time axis. */
export function CandleChart(props: { name: string; candles: CandleDatum[]; bucketSeconds: number; quote: string; base: string; height?: number; live?: number | null }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const height = props.height ?? 380;
  const m = DEFAULT_MARGINS;
  const volH = 70;
  const { w, h: fullH } = innerSize(width, height, m);
  const h = fullH - volH - 10;
  const [tip, setTip] = useState<TooltipState | null>(null);
  const c = props.candles;
  if (!c.length) {
    return (
      <div ref={ref} className="chart" data-chart={props.name} data-points={0}>
        <EmptyState title="No candles in this window" detail="Pick another venue, symbol or range, or run the OHLCV ingestion." height={height} />
      </div>
    );
  }
  const times = c.map((d) => Date.parse(d.ts));
  const bucketMs = props.bucketSeconds * 1000;
  const x = xTime([times[0]!, times[times.length - 1]! + bucketMs], w);
  const prices = c.flatMap((d) => [d.high, d.low]);
  if (props.live) prices.push(props.live);
  const y = yScale(prices, h);
  const vy = scaleLinear().domain([0, Math.max(...c.map((d) => d.volume)) || 1]).range([volH, 0]);
  const bw = Math.max(1, (x(new Date(times[0]! + bucketMs)) - x(new Date(times[0]!))) * 0.7);
  const onMove = (e: React.MouseEvent<SVGRectElement>) => {
    const mx = e.clientX - e.currentTarget.getBoundingClientRect().left;
    const i = nearestIndex(times.map((t) => x(new Date(t + bucketMs / 2))), mx);
    const d = c[i];
    if (!d) return;
    setTip({
      x: x(new Date(times[i]!)) + m.left,
      y: y(d.high) + m.top,
      lines: [utc(d.ts), `O ${price(d.open)}  H ${price(d.high)}`, `L ${price(d.low)}  C ${price(d.close)} ${props.quote}`, `Volume ${compact(d.volume)} ${props.base}`],
    });
  };
  return (
    <div ref={ref} className="chart" data-chart={props.name} data-points={c.length}>
      <svg width={width} height={height} role="img" aria-label="price candles and volume">
        <g transform={`translate(${m.left},${m.top})`}>
          <Axes x={x} y={y} width={w} height={h} xLabel="" yLabel={`price (${props.quote})`} xFormat={((v: Date) => "") as never} yFormat={price} />
          {c.map((d, i) => {
            const up = d.close >= d.open;
            const cx = x(new Date(times[i]!)) + bw / 2;
            return (
              <g key={d.ts} className={up ? "up" : "down"}>
                <line x1={cx} x2={cx} y1={y(d.high)} y2={y(d.low)} />
                <rect data-point="" x={cx - bw / 2} width={bw} y={y(Math.max(d.open, d.close))} height={Math.max(1, Math.abs(y(d.open) - y(d.close)))} />
              </g>
            );
          })}
          {props.live ? (
            <g className="live-line" transform={`translate(0,${y(props.live)})`}>
              <line x2={w} />
              <text x={w - 4} y={-4} textAnchor="end">
                live {price(props.live)}
              </text>
            </g>
          ) : null}
          <g transform={`translate(0,${h + 10})`}>
            <Axes x={x} y={vy} width={w} height={volH} xLabel="time (UTC)" yLabel={`vol (${props.base})`} xFormat={((v: Date) => utcTick(v)) as never} yFormat={compact} />
            {c.map((d, i) => (
              <rect key={d.ts} data-volume="" className={d.close >= d.open ? "vol up" : "vol down"} x={x(new Date(times[i]!))} width={bw} y={vy(d.volume)} height={volH - vy(d.volume)} />
            ))}
          </g>
          <rect width={w} height={fullH} fill="transparent" onMouseMove={onMove} onMouseLeave={() => setTip(null)} />
        </g>
      </svg>
      <Tooltip tip={tip} width={width} />
    </div>
  );
}

function utcTick(d: Date): string {
  const iso = d.toISOString();
  return iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(5, 10) + " " + iso.slice(11, 16);
}
