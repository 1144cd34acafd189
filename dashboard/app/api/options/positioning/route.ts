import { jsonRoute } from "@/app/lib/api";
import { optionsParams } from "@/app/lib/params";
import { positioning } from "@/app/lib/queries/options";

export const dynamic = "force-dynamic";
export const GET = jsonRoute(optionsParams, (p) => positioning(p.venue, p.base, p.expiry ? new Date(p.expiry).toISOString() : undefined));
