"use client";
import { useState } from "react";
import { Axes } from "./Axes";
import { PALETTE, Legend } from "./LineChart";
import { DEFAULT_MARGINS, band, innerSize, yScale } from "./scales";
import { EmptyState, Tooltip, type TooltipState } from "./Tooltip";
import { useWidth } from "./useWidth";

export interface BarGroup {
  key: string;
  label: string;
  values: number[];
}

/** Grouped (side by side) or stacked bars per category; signed values allowed (stacked: by sign). */
export function BarChart(props: {
  name: string;
  groups: BarGroup[];
  seriesLabels: string[];
  colors?: string[];
  stacked?: boolean;
  xLabel: string;
  yLabel: string;
  yFormat: (v: number) => string;
  height?: number;
  highlight?: { key: string; label: string }[];
  empty: { title: string; detail: string };
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const height = props.height ?? 280;
  const m = DEFAULT_MARGINS;
  const { w, h } = innerSize(width, height, m);
  const [tip, setTip] = useState<TooltipState | null>(null);
  const groups = props.groups;
  const n = groups.reduce((acc, g) => acc + g.values.filter((v) => v !== 0 && Number.isFinite(v)).length, 0);
  if (!groups.length) {
    return (
      <div ref={ref} className="chart" data-chart={props.name} data-points={0}>
        <EmptyState {...props.empty} height={height} />
      </div>
    );
  }
  const x = band(groups.map((g) => g.key), w);
  const extentValues = props.stacked
    ? groups.flatMap((g) => [g.values.filter((v) => v > 0).reduce((a, b) => a + b, 0), g.values.filter((v) => v < 0).reduce((a, b) => a + b, 0)])
    : groups.flatMap((g) => g.values);
  const y = yScale(extentValues, h, true);
  const colors = props.colors ?? PALETTE;
  const inner = band(props.seriesLabels, x.bandwidth(), 0.05);
  const labelOf = new Map(groups.map((g) => [g.key, g.label]));
  return (
    <div ref={ref} className="chart" data-chart={props.name} data-points={n}>
      <svg width={width} height={height} role="img" aria-label={`${props.yLabel} by ${props.xLabel}`}>
        <g transform={`translate(${m.left},${m.top})`}>
          <Axes x={x} y={y} width={w} height={h} xLabel={props.xLabel} yLabel={props.yLabel} xFormat={((k: string) => labelOf.get(k) ?? k) as never} yFormat={props.yFormat} />
          <line className="zero" x2={w} y1={y(0)} y2={y(0)} />
          {props.highlight?.map((hl) => (
            <g key={hl.key} className="vline" transform={`translate(${(x(hl.key) ?? 0) + x.bandwidth() / 2},0)`}>
              <line y2={h} />
              <text y={10} x={4}>
                {hl.label}
              </text>
            </g>
          ))}
          {groups.map((g) => {
            let pos = 0;
            let neg = 0;
            return (
              <g key={g.key} transform={`translate(${x(g.key) ?? 0},0)`}
                onMouseMove={() => setTip({ x: (x(g.key) ?? 0) + m.left + x.bandwidth() / 2, y: m.top + 20, lines: [`${props.xLabel}: ${g.label}`, ...g.values.map((v, i) => `${props.seriesLabels[i]}: ${props.yFormat(v)}`)] })}
                onMouseLeave={() => setTip(null)}>
                <rect width={x.bandwidth()} height={h} fill="transparent" />
                {g.values.map((v, i) => {
                  if (!Number.isFinite(v) || v === 0) return null;
                  let y0: number;
                  let y1: number;
                  if (props.stacked) {
                    if (v > 0) {
                      y0 = pos;
                      pos += v;
                      y1 = pos;
                    } else {
                      y0 = neg;
                      neg += v;
                      y1 = neg;
                    }
                  } else {
                    y0 = 0;
                    y1 = v;
                  }
                  const top = Math.min(y(y0), y(y1));
                  return (
                    <rect key={i} data-point="" x={props.stacked ? 0 : inner(props.seriesLabels[i]!) ?? 0} width={props.stacked ? x.bandwidth() : inner.bandwidth()} y={top}
                      height={Math.max(1, Math.abs(y(y0) - y(y1)))} fill={colors[i % colors.length]} />
                  );
                })}
              </g>
            );
          })}
        </g>
      </svg>
      <Legend series={props.seriesLabels.map((l, i) => ({ key: l, label: l, color: colors[i % colors.length] }))} />
      <Tooltip tip={tip} width={width} />
    </div>
  );
}
