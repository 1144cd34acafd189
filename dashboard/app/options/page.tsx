import { Shell, Notice } from "../ui/shell/Shell";
import { Filters } from "../ui/shell/Filters";
import { OptionsCharts } from "../ui/options/OptionsCharts";
import { pageParams, requireUser, type SearchParams } from "../lib/guard";
import { optionsParams, VENUES } from "../lib/params";
import { optionBases, positioning, skewHistory, smiles, surfaceGrid, termStructure } from "../lib/queries/options";
import { expiry as fmtExpiry, utc } from "../ui/format";

export const dynamic = "force-dynamic";

export default async function Options({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser();
  const { params, error } = await pageParams(optionsParams, searchParams);
  const [bases, sm, surface, term, hist] = await Promise.all([
    optionBases(params.venue),
    smiles(params.venue, params.base),
    surfaceGrid(params.venue, params.base),
    termStructure(params.venue, params.base),
    skewHistory(params.venue, params.base, 400),
  ]);
  const expiries = sm.slices.map((s) => s.expiry);
  const selected = params.expiry && expiries.includes(new Date(params.expiry).toISOString()) ? new Date(params.expiry).toISOString() : expiries[0];
  const pos = await positioning(params.venue, params.base, selected);
  const slice = sm.slices.find((s) => s.expiry === selected) ?? null;
  return (
    <Shell active="/options" user={user} title="Options" subtitle={`${params.venue} ${params.base} chain snapshot ${utc(sm.ts)}.`}>
      {error ? <Notice>Ignored invalid filter: {error}</Notice> : null}
      <Filters
        fields={[
          { name: "venue", label: "Venue", value: params.venue, options: VENUES.map((v) => ({ value: v, label: v })) },
          { name: "base", label: "Underlying", value: params.base, options: bases.map((b) => ({ value: b, label: b })) },
          { name: "expiry", label: "Expiry", value: selected ?? "", options: expiries.map((e) => ({ value: e, label: fmtExpiry(e) })) },
        ]}
      />
      <OptionsCharts
        d={{
          venue: params.venue,
          base: params.base,
          chainTs: sm.ts,
          hestonSnapshot: sm.hestonSnapshot,
          smile: slice ? { expiry: slice.expiry, forward: slice.forward, points: slice.points, svi: slice.svi, heston: slice.heston } : null,
          surface,
          term,
          history: hist.history,
          ivRank: hist.ivRank,
          current: hist.current,
          positioning: { spot: pos.spot, oiByStrike: pos.oiByStrike, gex: pos.gex, maxPain: pos.maxPain },
        }}
      />
    </Shell>
  );
}
