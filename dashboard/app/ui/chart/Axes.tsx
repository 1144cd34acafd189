"use client";
import type { ScaleLinear, ScaleTime, ScaleBand } from "d3";
import { tickCount } from "./scales";

type AnyScale = ScaleLinear<number, number> | ScaleTime<number, number>;

/** Bottom and left axes with unit labels and light grid lines (React-rendered from the D3 scales). */
export function Axes(props: {
  x: AnyScale | ScaleBand<string>;
  y: ScaleLinear<number, number>;
  width: number;
  height: number;
  xLabel: string;
  yLabel: string;
  /** px from the plot's left edge to the rotated y label (clears the widest tick label) */
  yLabelOffset?: number;
  xFormat?: (v: never) => string;
  yFormat?: (v: number) => string;
  xTickValues?: string[];
}) {
  const { x, y, width, height } = props;
  const yTicks = y.ticks(tickCount(height, 45));
  const yFmt = props.yFormat ?? ((v: number) => String(v));
  let xTicks: { pos: number; label: string }[];
  if ("bandwidth" in x) {
    const domain = x.domain();
    const every = Math.max(1, Math.ceil(domain.length / tickCount(width, 60)));
    xTicks = domain
      .filter((_, i) => i % every === 0)
      .map((d) => ({ pos: (x(d) ?? 0) + x.bandwidth() / 2, label: props.xFormat ? (props.xFormat as (v: string) => string)(d) : d }));
  } else {
    const s = x as ScaleLinear<number, number>;
    const fmt = props.xFormat as ((v: unknown) => string) | undefined;
    const ticks = (s.ticks(tickCount(width, 90)) as unknown[]);
    const defaultFmt = s.tickFormat(tickCount(width, 90)) as (v: unknown) => string;
    xTicks = ticks.map((t) => ({ pos: s(t as number), label: fmt ? fmt(t) : defaultFmt(t) }));
  }
  return (
    <g className="axes">
      {yTicks.map((t) => (
        <g key={`y${t}`} transform={`translate(0,${y(t)})`}>
          <line x2={width} className="grid" />
          <text x={-6} dy="0.32em" textAnchor="end" className="tick">
            {yFmt(t)}
          </text>
        </g>
      ))}
      <line y1={height} y2={height} x2={width} className="axis-line" />
      {xTicks.map((t, i) => (
        <g key={`x${i}`} transform={`translate(${t.pos},${height})`}>
          <line y2={5} className="axis-line" />
          <text y={17} textAnchor="middle" className="tick">
            {t.label}
          </text>
        </g>
      ))}
      <text className="axis-label" x={width} y={height + 32} textAnchor="end">
        {props.xLabel}
      </text>
      <text className="axis-label" transform="rotate(-90)" x={0} y={-(props.yLabelOffset ?? 52)} textAnchor="end">
        {props.yLabel}
      </text>
    </g>
  );
}
