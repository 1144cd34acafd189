import { z } from "zod";
import { Shell, Panel, Notice } from "../ui/shell/Shell";
import { Filters } from "../ui/shell/Filters";
import { RiskCharts } from "../ui/risk/RiskCharts";
import { pageParams, requireUser, type SearchParams } from "../lib/guard";
import { payoff, portfolioGreeks, portfolios, positionsWithReturns, stressGrid, varHistory } from "../lib/queries/risk";
import { num, pct, usd } from "../ui/format";

export const dynamic = "force-dynamic";

const riskParams = z.object({ portfolio: z.string().max(64).regex(/^[A-Za-z0-9_\-.]+$/).optional() });

export default async function Risk({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser();
  const { params, error } = await pageParams(riskParams, searchParams);
  const names = await portfolios();
  const portfolio = params.portfolio ?? names[0] ?? "sample";
  const [greeks, varHist, stress, positions, pay] = await Promise.all([
    portfolioGreeks(portfolio), varHistory(portfolio), stressGrid(portfolio), positionsWithReturns(portfolio), payoff(portfolio),
  ]);
  return (
    <Shell active="/risk" user={user} title="Risk" subtitle={`Portfolio ${portfolio}${greeks.asOf ? `, as of ${greeks.asOf}` : ""}.`}>
      {error ? <Notice>Ignored invalid filter: {error}</Notice> : null}
      <Filters fields={[{ name: "portfolio", label: "Portfolio", value: portfolio, options: names.map((n) => ({ value: n, label: n })) }]} />
      <RiskCharts d={{ greeks: greeks.rows, varHist, stress: stress.cells, positions, payoff: pay.points, probProfit: pay.probProfit }} />
      <Panel title="Positions" note="Signed size; expected-return decomposition over the horizon (USD)." wide>
        {positions.length ? (
          <div className="scroll">
            <table className="data">
              <thead><tr><th>position</th><th>venue</th><th>symbol</th><th>kind</th><th className="num">size</th><th className="num">carry</th><th className="num">theta</th><th className="num">convexity</th><th className="num">VRP</th><th className="num">drift</th><th className="num">expected</th><th className="num">P(profit)</th></tr></thead>
              <tbody>
                {positions.map((p) => (
                  <tr key={p.position_id}>
                    <td>{p.position_id}</td><td>{p.exchange}</td><td>{p.symbol}</td><td>{p.kind}</td><td className="num">{num(p.size, 3)} {p.size_unit}</td>
                    <td className="num">{usd(p.carry_usd)}</td><td className="num">{usd(p.theta_usd)}</td><td className="num">{usd(p.convexity_usd)}</td><td className="num">{usd(p.vrp_usd)}</td>
                    <td className="num">{usd(p.drift_usd)}</td><td className="num">{usd(p.expected_pnl_usd)}</td><td className="num">{pct(p.prob_profit_p, 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div className="empty" data-empty="true"><div className="empty-title">No positions</div><div className="empty-detail">Import positions (risk helper) to see them here.</div></div>
        )}
      </Panel>
    </Shell>
  );
}
