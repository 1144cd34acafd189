"use client";
import { line } from "d3";
import { useMemo, useState } from "react";
import { Axes } from "./Axes";
import { DEFAULT_MARGINS, innerSize, xLinear, xTime, yScale } from "./scales";
import { EmptyState, Tooltip, type TooltipState } from "./Tooltip";
import { useWidth } from "./useWidth";

export const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

export interface LineSeries {
  key: string;
  label: string;
  points: { x: number; y: number }[];
  mode?: "line" | "points" | "both";
  color?: string;
  dashed?: boolean;
}

export interface LineChartProps {
  name: string;
  series: LineSeries[];
  xType: "time" | "linear";
  xLabel: string;
  yLabel: string;
  xFormat: (v: number) => string;
  yFormat: (v: number) => string;
  height?: number;
  includeZero?: boolean;
  markers?: { x: number; y: number; label: string }[];
  vlines?: { x: number; label: string }[];
  empty: { title: string; detail: string };
}

/** Lines and/or point clouds on a time or numeric x axis, with a nearest-point tooltip. */
export function LineChart(props: LineChartProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const height = props.height ?? 280;
  const m = DEFAULT_MARGINS;
  const { w, h } = innerSize(width, height, m);
  const [tip, setTip] = useState<TooltipState | null>(null);
  const series = props.series.filter((s) => s.points.length > 0);
  const all = useMemo(() => series.flatMap((s) => s.points), [series]);
  const total = all.length;
  if (total === 0) {
    return (
      <div ref={ref} className="chart" data-chart={props.name} data-points={0}>
        <EmptyState {...props.empty} height={height} />
      </div>
    );
  }
  const xs = all.map((p) => p.x).concat(props.vlines?.map((v) => v.x) ?? []);
  const x = props.xType === "time" ? xTime(xs, w) : xLinear(xs, w);
  const y = yScale(all.map((p) => p.y).concat(props.markers?.map((p) => p.y) ?? []), h, props.includeZero);
  const X = (v: number) => (x as (v: number) => number)(v);
  const path = line<{ x: number; y: number }>()
    .defined((p) => Number.isFinite(p.y))
    .x((p) => X(p.x))
    .y((p) => y(p.y));
  const onMove = (e: React.MouseEvent<SVGRectElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    const mx = e.clientX - box.left;
    const my = e.clientY - box.top;
    let best: { s: LineSeries; p: { x: number; y: number }; d: number } | null = null;
    for (const s of series) {
      for (const p of s.points) {
        const d = Math.hypot(X(p.x) - mx, (y(p.y) - my) * 0.3);
        if (!best || d < best.d) best = { s, p, d };
      }
    }
    if (!best) return;
    setTip({ x: X(best.p.x) + m.left, y: y(best.p.y) + m.top, lines: [best.s.label, `${props.xLabel}: ${props.xFormat(best.p.x)}`, `${props.yLabel}: ${props.yFormat(best.p.y)}`] });
  };
  return (
    <div ref={ref} className="chart" data-chart={props.name} data-points={total}>
      <svg width={width} height={height} role="img" aria-label={`${props.yLabel} against ${props.xLabel}`}>
        <g transform={`translate(${m.left},${m.top})`}>
          <Axes x={x} y={y} width={w} height={h} xLabel={props.xLabel} yLabel={props.yLabel} xFormat={(props.xType === "time" ? shortUtc : props.xFormat) as never} yFormat={props.yFormat} />
          {props.includeZero && y.domain()[0]! < 0 && y.domain()[1]! > 0 ? <line className="zero" x2={w} y1={y(0)} y2={y(0)} /> : null}
          {props.vlines?.map((v) => (
            <g key={v.label} transform={`translate(${X(v.x)},0)`} className="vline">
              <line y2={h} />
              <text y={10} x={4}>
                {v.label}
              </text>
            </g>
          ))}
          {series.map((s, i) => {
            const color = s.color ?? PALETTE[i % PALETTE.length];
            const mode = s.mode ?? "line";
            return (
              <g key={s.key} data-series={s.key}>
                {mode !== "points" ? (
                  <path d={path(s.points) ?? ""} fill="none" stroke={color} strokeWidth={1.6} strokeDasharray={s.dashed ? "5 4" : undefined} />
                ) : null}
                {s.points.map((p, j) =>
                  Number.isFinite(p.y) ? (
                    <circle key={j} data-point="" cx={X(p.x)} cy={y(p.y)} r={mode === "line" ? 1.4 : 3} fill={color} opacity={mode === "line" ? 0.6 : 0.85} />
                  ) : null,
                )}
              </g>
            );
          })}
          {props.markers?.map((p, j) => (
            <circle key={`m${j}`} data-marker="" cx={X(p.x)} cy={y(p.y)} r={5} className="marker">
              <title>{p.label}</title>
            </circle>
          ))}
          <rect width={w} height={h} fill="transparent" onMouseMove={onMove} onMouseLeave={() => setTip(null)} />
        </g>
      </svg>
      <Legend series={series} />
      <Tooltip tip={tip} width={width} />
    </div>
  );
}

export function Legend({ series }: { series: { key: string; label: string; color?: string; dashed?: boolean }[] }) {
  if (series.length < 2) return null;
  return (
    <div className="legend">
      {series.map((s, i) => (
        <span key={s.key}>
          <i style={{ background: s.color ?? PALETTE[i % PALETTE.length] }} />
          {s.label}
        </span>
      ))}
    </div>
  );
}

/** Compact UTC tick label: "11-22" at midnight, else "11-22 06:00". */
export function shortUtc(v: number | Date): string {
  const iso = new Date(v).toISOString();
  return iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}
