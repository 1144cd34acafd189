"use client";
import { useState } from "react";
import { Axes } from "./Axes";
import { DEFAULT_MARGINS, band, divergingColor, innerSize, sequentialColor } from "./scales";
import { scaleLinear } from "d3";
import { EmptyState, Tooltip, type TooltipState } from "./Tooltip";
import { useWidth } from "./useWidth";

export interface HeatCellDatum {
  row: string;
  col: string;
  value: number;
}

/** A rows x columns grid coloured by value (sequential, or diverging around zero), with a colour key. */
export function Heatmap(props: {
  name: string;
  cells: HeatCellDatum[];
  rows: { key: string; label: string }[];
  cols: { key: string; label: string }[];
  xLabel: string;
  yLabel: string;
  valueLabel: string;
  format: (v: number) => string;
  diverging?: boolean;
  showValues?: boolean;
  height?: number;
  empty: { title: string; detail: string };
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const height = props.height ?? 300;
  const m = { ...DEFAULT_MARGINS, left: 96 }; // row labels like "vol +50 pt" plus the rotated axis label
  const { w, h } = innerSize(width, height, m);
  const [tip, setTip] = useState<TooltipState | null>(null);
  if (!props.cells.length) {
    return (
      <div ref={ref} className="chart" data-chart={props.name} data-points={0}>
        <EmptyState {...props.empty} height={height} />
      </div>
    );
  }
  const x = band(props.cols.map((c) => c.key), w, 0.04);
  const yb = band(props.rows.map((r) => r.key), h, 0.04);
  const values = props.cells.map((c) => c.value).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  const color = (v: number) => (props.diverging ? divergingColor(v, maxAbs) : sequentialColor(hi > lo ? (v - lo) / (hi - lo) : 0.5));
  const colLabel = new Map(props.cols.map((c) => [c.key, c.label]));
  const rowLabel = new Map(props.rows.map((r) => [r.key, r.label]));
  // a dummy linear y scale drives no ticks: row labels are drawn by hand
  const yDummy = scaleLinear().domain([0, 1]).range([h, h]);
  return (
    <div ref={ref} className="chart" data-chart={props.name} data-points={props.cells.length}>
      <svg width={width} height={height} role="img" aria-label={`${props.valueLabel} by ${props.xLabel} and ${props.yLabel}`}>
        <g transform={`translate(${m.left},${m.top})`}>
          <Axes x={x} y={yDummy.ticks(0).length ? yDummy : yDummy} width={w} height={h} xLabel={props.xLabel} yLabel={props.yLabel} yLabelOffset={84} xFormat={((k: string) => colLabel.get(k) ?? k) as never} yFormat={() => ""} />
          {props.rows.map((r) => (
            <text key={r.key} className="tick" x={-6} y={(yb(r.key) ?? 0) + yb.bandwidth() / 2} dy="0.32em" textAnchor="end">
              {r.label}
            </text>
          ))}
          {props.cells.map((c) => (
            <g key={`${c.row}|${c.col}`}>
              <rect data-point="" x={x(c.col)} y={yb(c.row)} width={x.bandwidth()} height={yb.bandwidth()} fill={color(c.value)}
                onMouseMove={() => setTip({ x: (x(c.col) ?? 0) + m.left + x.bandwidth() / 2, y: (yb(c.row) ?? 0) + m.top, lines: [`${props.yLabel}: ${rowLabel.get(c.row)}`, `${props.xLabel}: ${colLabel.get(c.col)}`, `${props.valueLabel}: ${props.format(c.value)}`] })}
                onMouseLeave={() => setTip(null)} />
              {props.showValues && x.bandwidth() > 34 && yb.bandwidth() > 14 ? (
                <text className="cell-value" x={(x(c.col) ?? 0) + x.bandwidth() / 2} y={(yb(c.row) ?? 0) + yb.bandwidth() / 2} dy="0.32em" textAnchor="middle">
                  {props.format(c.value)}
                </text>
              ) : null}
            </g>
          ))}
        </g>
      </svg>
      <div className="legend">
        <span>
          {props.valueLabel}: <i style={{ background: color(lo) }} /> {props.format(lo)} … <i style={{ background: color(hi) }} /> {props.format(hi)}
        </span>
      </div>
      <Tooltip tip={tip} width={width} />
    </div>
  );
}
