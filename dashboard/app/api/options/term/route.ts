import { jsonRoute } from "@/app/lib/api";
import { optionsParams } from "@/app/lib/params";
import { termStructure } from "@/app/lib/queries/options";

export const dynamic = "force-dynamic";
export const GET = jsonRoute(optionsParams, async (p) => ({ curves: await termStructure(p.venue, p.base) }));
