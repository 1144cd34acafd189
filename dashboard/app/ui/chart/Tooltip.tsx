"use client";

export interface TooltipState {
  x: number;
  y: number;
  lines: string[];
}

/** A small absolutely positioned box inside the chart's relative container. */
export function Tooltip({ tip, width }: { tip: TooltipState | null; width: number }) {
  if (!tip) return null;
  const left = tip.x > width * 0.6 ? tip.x - 12 : tip.x + 12;
  const transform = tip.x > width * 0.6 ? "translateX(-100%)" : undefined;
  return (
    <div className="tooltip" role="tooltip" style={{ left, top: Math.max(0, tip.y - 10), transform }}>
      {tip.lines.map((l, i) => (
        <div key={i} className={i === 0 ? "tooltip-title" : undefined}>
          {l}
        </div>
      ))}
    </div>
  );
}

export function EmptyState({ title, detail, height = 220 }: { title: string; detail: string; height?: number }) {
  return (
    <div className="empty" style={{ minHeight: height }} data-empty="true">
      <div className="empty-title">{title}</div>
      <div className="empty-detail">{detail}</div>
    </div>
  );
}
