import "server-only";
import { query, relationExists } from "../db";
import type { QueryResultRow } from "pg";

async function latestAsOf(view: string, portfolio: string): Promise<string | null> {
  const rows = await query<{ as_of: string | null }>(`SELECT max(as_of)::text AS as_of FROM ${view} WHERE portfolio = $1`, [portfolio]);
  return rows[0]?.as_of ?? null;
}

/** ``sql``'s rows ($1 = portfolio, $2 = as_of) on the latest day ``view`` holds for ``portfolio``. */
async function onLatestDay<T extends QueryResultRow>(view: string, portfolio: string, sql: string): Promise<{ asOf: string | null; rows: T[] }> {
  if (!(await relationExists(view))) return { asOf: null, rows: [] };
  const asOf = await latestAsOf(view, portfolio);
  return { asOf, rows: asOf ? await query<T>(sql, [portfolio, asOf]) : [] };
}

export async function portfolios(): Promise<string[]> {
  if (!(await relationExists("dash_positions"))) return [];
  const rows = await query<{ portfolio: string }>("SELECT DISTINCT portfolio FROM dash_positions ORDER BY 1");
  return rows.map((r) => r.portfolio);
}

export interface GreeksRow {
  position_id: string;
  base: string | null;
  value_usd: number;
  delta_usd: number;
  gamma_usd: number;
  vega_usd: number;
  theta_usd: number;
}

export async function portfolioGreeks(portfolio: string): Promise<{ asOf: string | null; rows: GreeksRow[] }> {
  return onLatestDay<GreeksRow>("dash_position_greeks", portfolio,
    `SELECT position_id, base, value_usd, delta_usd, gamma_usd, vega_usd, theta_usd FROM dash_position_greeks
      WHERE portfolio = $1 AND as_of = $2::date ORDER BY position_id = 'TOTAL' DESC, position_id`);
}

export interface VarPoint {
  as_of: string;
  method: string;
  var_usd: number;
  es_usd: number;
  next_pnl_usd: number | null;
  is_exception: boolean | null;
}

/** 1-day 99 % VaR/ES history per method, with next-day P&L and exceptions. */
export async function varHistory(portfolio: string, level = 0.99): Promise<VarPoint[]> {
  if (!(await relationExists("dash_risk_metrics"))) return [];
  return query<VarPoint>(
    `SELECT as_of::text AS as_of, method, var_usd, es_usd, next_pnl_usd, is_exception FROM dash_risk_metrics
      WHERE portfolio = $1 AND horizon_days = 1 AND level = $2 ORDER BY method, as_of`,
    [portfolio, level],
  );
}

export interface StressCell {
  spot_shock: number;
  vol_shock_pts: number;
  pnl_usd: number;
}

export async function stressGrid(portfolio: string): Promise<{ asOf: string | null; cells: StressCell[] }> {
  const { asOf, rows } = await onLatestDay<StressCell>("dash_stress", portfolio,
    `SELECT spot_shock, vol_shock_pts, pnl_usd FROM dash_stress
      WHERE portfolio = $1 AND as_of = $2::date AND scenario_kind = 'grid' ORDER BY spot_shock, vol_shock_pts`);
  return { asOf, cells: rows };
}

export interface PositionRow {
  position_id: string;
  exchange: string;
  symbol: string;
  kind: string;
  size: number;
  size_unit: string;
  carry_usd: number | null;
  theta_usd: number | null;
  convexity_usd: number | null;
  vrp_usd: number | null;
  drift_usd: number | null;
  expected_pnl_usd: number | null;
  prob_profit_p: number | null;
  horizon_days: number | null;
}

export async function positionsWithReturns(portfolio: string): Promise<PositionRow[]> {
  if (!(await relationExists("dash_positions"))) return [];
  return query<PositionRow>(
    `SELECT p.position_id, p.exchange, p.symbol, p.kind, p.size, p.size_unit, e.carry_usd, e.theta_usd,
            e.convexity_usd, e.vrp_usd, e.drift_usd, e.expected_pnl_usd, e.prob_profit_p, e.horizon_days
       FROM dash_positions p
       LEFT JOIN LATERAL (SELECT * FROM dash_expected_returns e
                           WHERE e.portfolio = p.portfolio AND e.position_id = p.position_id
                           ORDER BY as_of DESC, horizon_days LIMIT 1) e ON true
      WHERE p.portfolio = $1 ORDER BY p.position_id`,
    [portfolio],
  );
}

export interface PayoffPoint {
  curve: string;
  spot_usd: number;
  pnl_usd: number;
}

export async function payoff(portfolio: string): Promise<{ asOf: string | null; positionId: string | null; points: PayoffPoint[]; probProfit: number | null }> {
  if (!(await relationExists("dash_payoff_curves"))) return { asOf: null, positionId: null, points: [], probProfit: null };
  const asOf = await latestAsOf("dash_payoff_curves", portfolio);
  if (!asOf) return { asOf: null, positionId: null, points: [], probProfit: null };
  const first = await query<{ position_id: string }>(
    `SELECT position_id FROM dash_payoff_curves WHERE portfolio = $1 AND as_of = $2::date
      ORDER BY position_id LIKE 'TOTAL:%' DESC, position_id LIMIT 1`, [portfolio, asOf]);
  const positionId = first[0]?.position_id ?? null;
  const points = await query<PayoffPoint>(
    `SELECT curve, spot_usd, pnl_usd FROM dash_payoff_curves WHERE portfolio = $1 AND as_of = $2::date
      AND position_id = $3 ORDER BY curve, point`, [portfolio, asOf, positionId]);
  const pp = await query<{ p: number | null }>(
    `SELECT prob_profit_p AS p FROM dash_expected_returns WHERE portfolio = $1 AND position_id = 'TOTAL'
      ORDER BY as_of DESC, horizon_days LIMIT 1`, [portfolio]);
  return { asOf, positionId, points, probProfit: pp[0]?.p ?? null };
}
