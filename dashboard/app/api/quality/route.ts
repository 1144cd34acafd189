import { jsonRoute } from "@/app/lib/api";
import { dqParams } from "@/app/lib/params";
import { latestValidation, quarantineCounts } from "@/app/lib/queries/quality";

export const dynamic = "force-dynamic";
export const GET = jsonRoute(dqParams, async (p) => ({ latest: await latestValidation(p.table), quarantine: await quarantineCounts() }));
