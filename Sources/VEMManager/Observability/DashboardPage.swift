import Foundation

/// The dashboard's HTML, rendered from a ``DashboardState`` with plain Swift strings (every text escaped by
/// ``HTML/escape(_:)``). The page is whole at load; server-sent events (`/dashboard/events`) then replace its
/// sections with newly rendered ones (``sections(_:)``), so one renderer serves both.
public enum DashboardPage {
    /// The ids of the page's live sections, in page order.
    public static let sectionIDs = ["pool", "vms", "decisions", "clients", "triggers"]

    /// Every live section's inner HTML, by id.
    public static func sections(_ state: DashboardState) -> [String: String] {
        [
            "pool": pool(state), "vms": vms(state), "decisions": decisions(state), "clients": clients(state),
            "triggers": triggers(state),
        ]
    }

    /// The whole page.
    /// - Parameters:
    ///   - state: What to show.
    ///   - title: The page's heading (the site's bus, say).
    public static func page(_ state: DashboardState, title: String = "VEM") -> String {
        let sections = sections(state)
        let titles = [
            "pool": "Pool by group", "vms": "VMs by host and stage", "decisions": "Decision log",
            "clients": "Clients and properties", "triggers": "Trigger health",
        ]
        var body = ""
        for id in sectionIDs {
            body +=
                "<section><h2>\(HTML.escape(titles[id] ?? id))</h2>"
                + "<div id=\"\(id)\">\(sections[id] ?? "")</div></section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title)) dashboard</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>\(style)</style></head>
            <body data-updates="0">
            <header><h1>\(HTML.escape(title))</h1><span id="live">connecting…</span></header>
            \(body)<script>\(script)</script>
            </body></html>
            """
    }

    // MARK: Sections

    static func pool(_ state: DashboardState) -> String {
        let latest = state.history.last?.groups ?? []
        var html = "<div class=\"charts\">"
        for group in state.groups {
            html += chart(group: group, history: state.history, now: state.now, held: state.held[group] ?? 0)
        }
        html += "</div>"
        let rows: [[HTML.Cell]] = state.groups.map { name in
            let g = latest.first { $0.group == name }
            return [
                HTML.Cell(name, className: "group"),
                HTML.Cell(g.map { String(format: "%.1f%%", $0.share * 100) } ?? "–"),
                HTML.Cell(g.map { String($0.demand) } ?? "–"), HTML.Cell(g.map { String($0.target) } ?? "–"),
                HTML.Cell(String(state.held[name] ?? 0)),
                HTML.Cell(String(state.vms.filter { $0.group == name }.count)),
            ]
        }
        return html + HTML.table(["group", "share", "demand", "target", "held", "VMs"], rows, id: "groups")
    }

    /// One group's held (solid), target (dashed) and demand (dotted) VMs over the history, as an SVG: each plan's
    /// figures until the next, and the VMs held now at the right end.
    static func chart(group: String, history: [PoolHistory.Sample], now: Double, held: Int) -> String {
        let (width, height) = (360.0, 110.0)
        let points = history.compactMap { s in s.groups.first { $0.group == group }.map { (s, $0) } }
        let start = min(history.first?.time ?? now, now)
        let end = max(history.last?.until ?? now, now, start + 1)
        let peak = points.map { max($0.1.held, $0.1.target, $0.1.demand) }.max() ?? 0
        let top = Double(max(1, peak, held))
        func x(_ t: Double) -> String { String(format: "%.1f", 4 + (t - start) / (end - start) * (width - 8)) }
        func y(_ v: Int) -> String { String(format: "%.1f", height - 14 - Double(v) / top * (height - 24)) }
        func line(_ value: (PoolHistory.Group) -> Int, last: Int? = nil) -> String {
            var coordinates: [String] = []
            for (i, (sample, g)) in points.enumerated() {
                let next = i + 1 < points.count ? points[i + 1].0.time : end
                coordinates.append("\(x(sample.time)),\(y(value(g)))")
                coordinates.append("\(x(next)),\(y(value(g)))")
            }
            if let last { coordinates.append("\(x(end)),\(y(last))") }
            return coordinates.joined(separator: " ")
        }
        return """
            <figure class="chart"><svg viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" \
            role="img" aria-label="\(HTML.escape(group))">\
            <polyline class="demand" points="\(line(\.demand))"/><polyline class="target" points="\(line(\.target))"/>\
            <polyline class="held" points="\(line(\.held, last: held))"/>\
            <text x="4" y="\(Int(height) - 2)">0</text><text x="4" y="10">\(Int(top))</text></svg>\
            <figcaption>\(HTML.escape(group)): held <span class="held">━</span> target <span class="target">┅</span> \
            demand <span class="demand">┈</span></figcaption></figure>
            """
    }

    static func vms(_ state: DashboardState) -> String {
        let stages = ["creating", "booting", "registering", "active", "draining", "removing", "destroying"]
        let hosts = Set(state.vms.map(\.host)).sorted()
        let rows: [[HTML.Cell]] = hosts.map { host in
            let here = state.vms.filter { $0.host == host }
            var row: [HTML.Cell] = [HTML.Cell(host)]
            for stage in stages { row.append(HTML.Cell(String(here.filter { $0.stage == stage }.count))) }
            let names = here.sorted { $0.name < $1.name }.map {
                let (stage, group, name) = (HTML.escape($0.stage), HTML.escape($0.group), HTML.escape($0.name))
                return "<span class=\"vm \(stage)\" title=\"\(group) · \(stage)\">\(name)</span>"
            }
            row.append(HTML.Cell(raw: names.joined(separator: " ")))
            return row
        }
        return "<p>VMs: <strong id=\"vm-count\" data-count=\"\(state.vms.count)\">\(state.vms.count)</strong></p>"
            + HTML.table(["host"] + stages + ["VMs"], rows, id: "vm-table")
    }

    static func decisions(_ state: DashboardState) -> String {
        let rows: [[HTML.Cell]] = state.decisions.map { d in
            [
                HTML.Cell(time(d.time, now: state.now)), HTML.Cell(d.trigger), HTML.Cell(d.action),
                HTML.Cell(d.vm ?? ""), HTML.Cell(d.group ?? ""), HTML.Cell(d.reason, className: "reason"),
            ]
        }
        return HTML.table(["when", "trigger", "action", "VM", "group", "reason"], rows, id: "decision-table")
    }

    static func clients(_ state: DashboardState) -> String {
        let rows: [[HTML.Cell]] = state.clients.map { c in
            let properties = c.properties.map { "<code>\(HTML.escape($0.name))=\(HTML.escape($0.value))</code>" }
            return [
                HTML.Cell(c.name), HTML.Cell(c.role), HTML.Cell(c.host), HTML.Cell(c.group ?? ""),
                HTML.Cell(c.connected ? "connected" : "gone", className: c.connected ? "ok" : "bad"),
                HTML.Cell(raw: properties.joined(separator: " ")),
            ]
        }
        return HTML.table(["name", "role", "host", "group", "state", "properties"], rows, id: "client-table")
    }

    static func triggers(_ state: DashboardState) -> String {
        let rows: [[HTML.Cell]] = state.triggers.map { t in
            [
                HTML.Cell(t.name), HTML.Cell(String(t.evaluations)), HTML.Cell(String(t.fired)),
                HTML.Cell(String(t.errors), className: t.errors > 0 ? "bad" : nil),
                HTML.Cell(t.lastResult ?? "–", className: t.lastResult == "error" ? "bad" : nil),
                HTML.Cell(t.lastDurationMilliseconds.map { String(format: "%.2f ms", $0) } ?? "–"),
                HTML.Cell(t.lastError ?? ""),
            ]
        }
        return HTML.table(
            ["trigger", "evaluations", "fired", "errors", "last result", "last duration", "last error"], rows,
            id: "trigger-table")
    }

    /// `t` as an age before `now` (`12 s ago`), the way the CLI prints times.
    static func time(_ t: Double, now: Double) -> String {
        let age = max(0, now - t)
        if age < 120 { return "\(Int(age)) s ago" }
        if age < 7200 { return "\(Int(age / 60)) min ago" }
        return "\(Int(age / 3600)) h ago"
    }

    // MARK: Style and script

    static let style = """
        body{font:14px system-ui,sans-serif;margin:1em 2em;color:#222}header{display:flex;gap:1em;align-items:baseline}
        h2{font-size:1.1em;margin:1.2em 0 .4em}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
        .charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}svg{background:#fafafa;border:1px solid #ddd}
        polyline{fill:none;stroke-width:2}polyline.held{stroke:#1565c0}polyline.target{stroke:#e65100;stroke-dasharray:6 3}
        polyline.demand{stroke:#888;stroke-dasharray:2 3}span.held{color:#1565c0}span.target{color:#e65100}span.demand{color:#888}
        svg text{font-size:9px;fill:#888}.vm{display:inline-block;padding:0 4px;margin:1px;border-radius:3px;background:#e3f2fd}
        .vm.active{background:#c8e6c9}.vm.draining,.vm.removing,.vm.destroying{background:#ffe0b2}.bad{color:#b71c1c}.ok{color:#1b5e20}
        .reason{max-width:40em}code{font-size:12px;margin-right:.5em}#live{color:#888}
        """

    /// Replaces each section on every `update` event; reports what it rendered (`/dashboard/seen`), which tells
    /// the Manager (and its tests) that a browser shows the update.
    static let script = """
        (function(){
          var updates=0;
          var live=document.getElementById('live');
          function seen(){
            var c=document.getElementById('vm-count');
            fetch('/dashboard/seen?updates='+updates+'&vms='+(c?c.dataset.count:'')).catch(function(){});
          }
          var source=new EventSource('/dashboard/events');
          source.addEventListener('update',function(e){
            var sections=JSON.parse(e.data);
            for(var id in sections){var el=document.getElementById(id);if(el){el.innerHTML=sections[id];}}
            updates++;document.body.dataset.updates=String(updates);
            live.textContent='live · '+updates+' updates';
            seen();
          });
          source.onerror=function(){live.textContent='reconnecting…';};
        })();
        """
}
