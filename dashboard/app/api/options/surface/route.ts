import { jsonRoute } from "@/app/lib/api";
import { optionsParams } from "@/app/lib/params";
import { surfaceGrid } from "@/app/lib/queries/options";

export const dynamic = "force-dynamic";
export const GET = jsonRoute(optionsParams, (p) => surfaceGrid(p.venue, p.base));
