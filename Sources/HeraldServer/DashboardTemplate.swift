/// The dashboard page (swift-mustache). The table is filled by a small inline script
/// from `/api/campaigns` every 2 s, real campaigns first and rehearsals (dry runs,
/// simulations) in a table of their own; with `actions`, each row has the buttons its state
/// allows (Pause or Resume, and Cancel, which asks to confirm) that POST with the token the
/// user types once (kept in the tab's sessionStorage, sent as `X-Herald-Token`, never in a URL).
enum DashboardTemplate {
    static let page = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 12px; } h2 { font-size: 17px; margin: 28px 0 4px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eee; vertical-align: middle; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
progress { width: 160px; height: 14px; accent-color: #0072B2; }
button { font: inherit; padding: 2px 10px; margin-right: 4px; }
.state { font-weight: 600; } .muted { color: #666; } #updated { color: #666; font-size: 13px; }
</style>
</head>
<body>
<h1>Herald campaigns</h1>
<p id="updated">loading…</p>
<p id="action" role="status"></p>
{{#actions}}<p><label>Token for actions: <input id="token" type="password" autocomplete="off"></label></p>{{/actions}}
<table id="campaigns">
<thead><tr><th>campaign</th><th>state</th><th>progress</th><th class="num">sent</th><th class="num">delivered</th><th class="num">msg/s</th><th>ETA</th><th>spend</th><th></th></tr></thead>
<tbody></tbody>
</table>
<section id="rehearsals" hidden>
<h2>Rehearsals</h2>
<p class="muted">Dry runs and simulations: nothing was delivered and no money was spent.</p>
<table id="rehearsal-campaigns">
<thead><tr><th>campaign</th><th>state</th><th>progress</th><th class="num">sent</th><th class="num">delivered</th><th class="num">msg/s</th><th>ETA</th><th>would-be cost</th><th></th></tr></thead>
<tbody></tbody>
</table>
</section>
<script nonce="{{nonce}}">
const actions = {{#actions}}true{{/actions}}{{^actions}}false{{/actions}};
const tokenField = document.getElementById("token");
if (tokenField) {
  tokenField.value = sessionStorage.getItem("heraldToken") || "";
  tokenField.addEventListener("change", () => sessionStorage.setItem("heraldToken", tokenField.value));
}
function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  row.appendChild(td);
  return td;
}
function eta(seconds, finishesAt) {
  if (seconds === undefined || seconds === null) return "–";
  let text = seconds < 90 ? seconds + " s" : seconds < 5400 ? Math.round(seconds / 60) + " min" : (seconds / 3600).toFixed(1) + " h";
  // The senders' finish, inside the send windows: its time (UTC), and its day when not today.
  if (finishesAt && seconds >= 90) {
    const at = new Date(finishesAt);
    const today = new Date().toISOString().slice(0, 10);
    const day = finishesAt.slice(0, 10);
    text += " · " + (day === today ? "" : day + " ") + at.toISOString().slice(11, 16) + "Z";
  }
  return text;
}
async function act(action, campaign) {
  // Cancel is final: asked once more.
  if (action === "cancel" && !confirm("Cancel " + campaign + "? Its unsent rows will never be sent; this cannot be undone.")) return;
  const response = await fetch("/campaigns/" + encodeURIComponent(campaign) + "/" + action,
    { method: "POST", headers: { "X-Herald-Token": tokenField ? tokenField.value : "" } });
  document.getElementById("action").textContent = action + " " + campaign + ": " + (await response.text());
  refresh();
}
async function refresh() {
  try {
    const response = await fetch("/api/campaigns", { cache: "no-store" });
    const data = await response.json();
    const body = document.querySelector("#campaigns tbody");
    const rehearsals = document.querySelector("#rehearsal-campaigns tbody");
    body.replaceChildren();
    rehearsals.replaceChildren();
    for (const c of data.campaigns) {
      const real = c.mode === "real";
      const row = document.createElement("tr");
      row.dataset.campaign = c.campaign;
      const name = cell(row, "");
      const link = document.createElement("a");
      link.href = "/campaigns/" + encodeURIComponent(c.campaign);
      link.textContent = c.campaign;
      name.appendChild(link);
      if (c.state === "scheduled" || c.state === "ready" || c.state === "importing") {
        const preview = document.createElement("a");
        preview.href = "/campaigns/" + encodeURIComponent(c.campaign) + "/preview";
        preview.textContent = "preview";
        preview.className = "preview";
        name.append(" ", preview);
      }
      if (c.providers) {
        const via = document.createElement("div");
        via.className = "muted providers";
        via.textContent = c.providers.map(p => p.name + " " + p.sent.toLocaleString() + " sent $" + p.cost).join(" · ");
        name.appendChild(via);
      }
      cell(row, c.state, "state");
      const bar = document.createElement("progress");
      bar.max = 1; bar.value = c.progress;
      bar.setAttribute("aria-label", c.campaign + " progress " + Math.round(c.progress * 100) + "%");
      cell(row, "").appendChild(bar);
      cell(row, c.sent.toLocaleString() + " / " + c.total.toLocaleString(), "num");
      cell(row, c.delivered.toLocaleString(), "num");
      const sending = c.state === "running";
      cell(row, sending ? c.rate.toLocaleString() : "–", "num");
      cell(row, sending ? eta(c.eta_seconds, c.finishes_at) : "–", "eta");
      let spend = "$" + c.spent + (real ? " + $" + c.reserved + " reserved" : "");
      if (c.campaign_limit) spend += " of $" + c.campaign_limit;
      cell(row, spend, "muted");
      const buttons = cell(row, "");
      if (actions) {
        for (const action of c.actions) {
          const button = document.createElement("button");
          button.textContent = action[0].toUpperCase() + action.slice(1);
          button.className = action;
          button.addEventListener("click", () => act(action, c.campaign));
          buttons.appendChild(button);
        }
      }
      (real ? body : rehearsals).appendChild(row);
    }
    document.getElementById("rehearsals").hidden = rehearsals.children.length === 0;
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    document.getElementById("updated").textContent = "cannot reach herald: " + error;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""#
}
