import { jsonRoute } from "@/app/lib/api";
import { optionsParams } from "@/app/lib/params";
import { skewHistory } from "@/app/lib/queries/options";

export const dynamic = "force-dynamic";
export const GET = jsonRoute(optionsParams, (p) => skewHistory(p.venue, p.base, 400));
