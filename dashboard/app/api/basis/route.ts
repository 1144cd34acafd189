import { jsonRoute } from "@/app/lib/api";
import { seriesParams } from "@/app/lib/params";
import { basisSeries, latestBasis } from "@/app/lib/queries/market";

export const dynamic = "force-dynamic";
/** Basis (decimal) per futures contract, LTTB-downsampled, and the latest basis term structure. */
export const GET = jsonRoute(seriesParams, async (p) => ({ series: await basisSeries(p.base, p.range, p.points, p.end), latest: await latestBasis(p.base) }));
