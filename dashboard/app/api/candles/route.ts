import { jsonRoute } from "@/app/lib/api";
import { candlesParams } from "@/app/lib/params";
import { candles } from "@/app/lib/queries/market";

export const dynamic = "force-dynamic";
/** OHLCV candles of one venue/symbol, aggregated server-side to at most ``points`` buckets. */
export const GET = jsonRoute(candlesParams, (p) => candles(p.venue, p.symbol, p.range, p.points, p.end));
