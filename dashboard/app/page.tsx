import { Shell, Notice } from "./ui/shell/Shell";
import { OverviewCharts } from "./ui/overview/OverviewCharts";
import { Filters } from "./ui/shell/Filters";
import { pageParams, requireUser, type SearchParams } from "./lib/guard";
import { candlesParams, RANGES } from "./lib/params";
import { basisSeries, candleMarkets, candles, fundingSeries } from "./lib/queries/market";
import { streamWsUrl } from "./lib/env";

export const dynamic = "force-dynamic";

export default async function Overview({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser();
  const { params, error } = await pageParams(candlesParams, searchParams);
  const markets = await candleMarkets();
  const market = markets.find((m) => m.venue === params.venue && m.symbol === params.symbol);
  const base = market?.base ?? params.symbol.split("/")[0] ?? "BTC";
  const quote = params.symbol.split("/")[1]?.split(":")[0] ?? "USD";
  const [series, funding, basis] = await Promise.all([
    candles(params.venue, params.symbol, params.range, params.points, params.end),
    fundingSeries(base, params.range === "6h" || params.range === "1d" ? "1w" : params.range, 400),
    basisSeries(base, params.range === "6h" || params.range === "1d" ? "1w" : params.range, 400),
  ]);
  const tickerMarkets = markets.filter((m) => m.kind === "spot" || m.kind === "perpetual").slice(0, 6).map((m) => ({ venue: m.venue, symbol: m.symbol }));
  return (
    <Shell active="/" user={user} title="Overview" subtitle={`Candles, funding and basis; data up to ${series.end.slice(0, 16).replace("T", " ")} UTC.`}>
      {error ? <Notice>Ignored invalid filter: {error}</Notice> : null}
      <Filters
        fields={[
          { name: "venue", label: "Venue", value: params.venue, options: [...new Set(markets.map((m) => m.venue))].map((v) => ({ value: v, label: v })) },
          { name: "symbol", label: "Symbol", value: params.symbol, options: markets.filter((m) => m.venue === params.venue).map((m) => ({ value: m.symbol, label: `${m.symbol} (${m.kind})` })) },
          { name: "range", label: "Range", value: params.range, options: Object.keys(RANGES).map((r) => ({ value: r, label: r })) },
        ]}
      />
      <OverviewCharts venue={params.venue} symbol={params.symbol} quote={quote} base={base} candles={series.candles} bucketSeconds={series.bucketSeconds}
        source={series.source} funding={funding} basis={basis} streamUrl={streamWsUrl()} tickerMarkets={tickerMarkets.length ? tickerMarkets : [{ venue: params.venue, symbol: params.symbol }]} />
    </Shell>
  );
}
