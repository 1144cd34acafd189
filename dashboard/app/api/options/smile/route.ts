import { jsonRoute } from "@/app/lib/api";
import { optionsParams } from "@/app/lib/params";
import { smiles } from "@/app/lib/queries/options";

export const dynamic = "force-dynamic";
export const GET = jsonRoute(optionsParams, (p) => smiles(p.venue, p.base));
