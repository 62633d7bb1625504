/// The report page's mustache template. Values are escaped by mustache; the charts
/// (SVG made by `Charts`, its text escaped there) go in with triple braces.
enum ReportTemplate {
    static let page = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald report: {{header.campaign}}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; margin: 0 auto; max-width: 980px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; margin: 0 0 16px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.tile { border: 1px solid #d6d6d6; border-radius: 6px; padding: 10px 12px; }
.tile .value { font-size: 22px; font-weight: 600; } .tile .label { color: #555; font-size: 13px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; }
th { font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
svg.chart { display: block; margin: 4px 0; } svg .axis, svg .label, svg .value { font-size: 11px; fill: #333; }
svg .grid { stroke: #ccc; stroke-width: 1; }
.empty { color: #777; font-style: italic; }
@media print { body { max-width: none; padding: 0; font-size: 12px; } h2 { break-after: avoid; } .tile, svg, table { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<h1>{{header.campaign}}</h1>
<p class="meta" id="header">provider {{header.provider}} · channel {{header.channel}} · state {{header.state}} · started {{header.started}} · ended {{header.ended}}</p>
</header>
<section class="tiles" id="tiles" aria-label="Figures">
{{#tiles}}<div class="tile"><div class="value">{{value}}</div><div class="label">{{label}}</div></div>
{{/tiles}}</section>

<h2>Funnel</h2>
{{{funnel}}}

<h2>Sends and deliveries over time</h2>
{{#hasTimeline}}{{{timeline}}}{{/hasTimeline}}{{^hasTimeline}}<p class="empty">Nothing sent yet.</p>{{/hasTimeline}}

<h2>Time from send to delivery</h2>
<p>p50 {{p50}} · p90 {{p90}} · p99 {{p99}}</p>
{{#hasLatency}}{{{latency}}}{{/hasLatency}}{{^hasLatency}}<p class="empty">No delivery receipts yet.</p>{{/hasLatency}}

<h2>Spend</h2>
<table id="spend">
<tr><th>herald's estimate</th><th>reserved</th><th>spent</th><th>provider-reported</th></tr>
<tr><td>{{spend.estimated}}</td><td>{{spend.reserved}}</td><td>{{spend.spent}}</td><td>{{spend.reported}}</td></tr>
</table>
<table id="countries">
<tr><th>country</th><th class="num">sent</th><th class="num">estimate</th><th class="num">spent</th><th class="num">provider-reported</th></tr>
{{#countries}}<tr><td>{{country}}</td><td class="num">{{sent}}</td><td class="num">{{estimated}}</td><td class="num">{{spent}}</td><td class="num">{{reported}}</td></tr>
{{/countries}}</table>

{{#hasProviders}}<h2>Providers</h2>
<table id="providers">
<tr><th>provider</th><th>kind</th><th class="num">sent</th><th class="num">failed</th><th class="num">in doubt</th><th class="num">delivered</th><th class="num">delivery rate</th><th class="num">cost</th></tr>
{{#providers}}<tr><td>{{name}}</td><td>{{kind}}</td><td class="num">{{sent}}</td><td class="num">{{failed}}</td><td class="num">{{inDoubt}}</td><td class="num">{{delivered}}</td><td class="num">{{rate}}</td><td class="num">{{cost}}</td></tr>
{{/providers}}</table>{{/hasProviders}}
{{#hasLanguages}}<h2>Languages</h2>
<table id="languages">
<tr><th>language</th><th class="num">sent</th><th class="num">failed</th><th class="num">skipped</th><th class="num">delivered</th><th class="num">delivery rate</th><th class="num">cost</th></tr>
{{#languages}}<tr><td>{{language}}</td><td class="num">{{sent}}</td><td class="num">{{failed}}</td><td class="num">{{skipped}}</td><td class="num">{{delivered}}</td><td class="num">{{rate}}</td><td class="num">{{cost}}</td></tr>
{{/languages}}</table>{{/hasLanguages}}
{{#hasSwitches}}<h2>Failover</h2>
<table id="switches">
<tr><th>from</th><th>to</th><th>why</th><th class="num">rows</th><th>first</th><th>last</th></tr>
{{#switches}}<tr><td>{{from}}</td><td>{{to}}</td><td>{{reason}}</td><td class="num">{{rows}}</td><td>{{first}}</td><td>{{last}}</td></tr>
{{/switches}}</table>{{/hasSwitches}}

<h2>Delivery rate by country</h2>
{{#hasRates}}{{{rates}}}{{/hasRates}}{{^hasRates}}<p class="empty">Nothing sent yet.</p>{{/hasRates}}

<h2>Skipped, failed and waiting</h2>
{{#hasReasons}}<table id="reasons">
<tr><th>state</th><th>reason</th><th class="num">rows</th><th>example CSV lines</th></tr>
{{#reasons}}<tr><td>{{state}}</td><td>{{reason}}</td><td class="num">{{count}}</td><td>{{examples}}</td></tr>
{{/reasons}}</table>{{/hasReasons}}{{^hasReasons}}<p class="empty">None.</p>{{/hasReasons}}

<h2>Rows in doubt</h2>
{{#hasDoubt}}<table id="doubt">
<tr><th>CSV line</th><th>reason</th><th>detail</th></tr>
{{#inDoubt}}<tr><td>{{row}}</td><td>{{reason}}</td><td>{{detail}}</td></tr>
{{/inDoubt}}</table>{{/hasDoubt}}{{^hasDoubt}}<p class="empty">None.</p>{{/hasDoubt}}

<footer><p class="meta">Generated by herald at {{generated}}. Aggregates only: no phone numbers.</p></footer>
</body>
</html>
"""#
}
