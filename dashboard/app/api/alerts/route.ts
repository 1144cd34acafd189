import { jsonRoute } from "@/app/lib/api";
import { alertsParams } from "@/app/lib/params";
import { recentAlerts } from "@/app/lib/queries/alerts";

export const dynamic = "force-dynamic";
export const GET = jsonRoute(alertsParams, async (p) => ({ alerts: (await recentAlerts(p.limit, p.severity)) ?? [] }));
