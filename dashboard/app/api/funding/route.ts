import { jsonRoute } from "@/app/lib/api";
import { seriesParams } from "@/app/lib/params";
import { fundingSeries } from "@/app/lib/queries/market";

export const dynamic = "force-dynamic";
/** Funding APR per venue perpetual, LTTB-downsampled to ``points`` per series. */
export const GET = jsonRoute(seriesParams, async (p) => ({ series: await fundingSeries(p.base, p.range, p.points, p.end) }));
