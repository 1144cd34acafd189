import { Shell, Notice } from "../ui/shell/Shell";
import { AlertFeed } from "../ui/alerts/AlertFeed";
import { pageParams, requireUser, type SearchParams } from "../lib/guard";
import { alertsParams } from "../lib/params";
import { alertCounts, recentAlerts } from "../lib/queries/alerts";
import { streamWsUrl } from "../lib/env";

export const dynamic = "force-dynamic";

export default async function Alerts({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser();
  const { params, error } = await pageParams(alertsParams, searchParams);
  const [history, counts] = await Promise.all([recentAlerts(params.limit, params.severity), alertCounts()]);
  return (
    <Shell active="/alerts" user={user} title="Alerts" subtitle="Market, data-quality and pipeline alerts.">
      {error ? <Notice>Ignored invalid filter: {error}</Notice> : null}
      <AlertFeed url={streamWsUrl()} history={history ?? []} counts={counts} missing={history === null} />
    </Shell>
  );
}
