/// Charts drawn as inline SVG on the server: no script, no fonts fetched, readable
/// printed. Okabe-Ito colours (distinguishable with the common colour-vision
/// deficiencies); every chart has a title and a text description for screen readers.
enum Charts {
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]

    struct Series {
        let name: String
        let values: [Double]
    }

    /// Vertical bars over `labels`, one colour per series, side by side.
    static func columns(id: String, title: String, description: String, labels: [String], series: [Series],
                        width: Int = 720, height: Int = 220) -> String {
        let top = 24.0, bottom = 36.0, left = 48.0
        let plotHeight = Double(height) - top - bottom
        let plotWidth = Double(width) - left - 8
        let maximum = max(series.flatMap(\.values).max() ?? 0, 1)
        let groups = max(labels.count, 1)
        let groupWidth = plotWidth / Double(groups)
        let barWidth = min(max(groupWidth * 0.8 / Double(max(series.count, 1)), 0.5), 36)
        var svg = open(id: id, title: title, description: description, width: width, height: height)
        svg += axis(left: left, top: top, plotHeight: plotHeight, plotWidth: plotWidth, maximum: maximum)
        for (index, serie) in series.enumerated() {
            for (position, value) in serie.values.enumerated() {
                let barHeight = value / maximum * plotHeight
                let x = left + Double(position) * groupWidth + groupWidth * 0.1 + Double(index) * barWidth
                svg += "<rect x=\"\(f(x))\" y=\"\(f(top + plotHeight - barHeight))\" width=\"\(f(barWidth))\" "
                    + "height=\"\(f(barHeight))\" fill=\"\(palette[index % palette.count])\"><title>\(escape(serie.name)) "
                    + "\(escape(labels[position])): \(Int(value))</title></rect>"
            }
        }
        // At most eight axis labels, evenly spread.
        let step = max(1, Int((Double(labels.count) / 8).rounded(.up)))
        for position in stride(from: 0, to: labels.count, by: step) {
            svg += "<text x=\"\(f(left + Double(position) * groupWidth))\" y=\"\(height - 18)\" class=\"axis\">"
                + "\(escape(labels[position]))</text>"
        }
        svg += legend(series.map(\.name), y: height - 4)
        return svg + "</svg>"
    }

    /// Horizontal bars: one per label, the value written at its end.
    static func bars(id: String, title: String, description: String, labels: [String], values: [Double],
                     text: [String], width: Int = 720) -> String {
        let rowHeight = 26.0, left = 170.0
        let height = Int(Double(max(labels.count, 1)) * rowHeight + 30)
        let maximum = max(values.max() ?? 0, 1)
        let plotWidth = Double(width) - left - 110
        var svg = open(id: id, title: title, description: description, width: width, height: height)
        for (index, label) in labels.enumerated() {
            let y = 20 + Double(index) * rowHeight
            let length = values[index] / maximum * plotWidth
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 15))\" text-anchor=\"end\" class=\"label\">\(escape(label))</text>"
            svg += "<rect x=\"\(f(left))\" y=\"\(f(y))\" width=\"\(f(max(length, 1)))\" height=\"18\" "
                + "fill=\"\(palette[0])\"><title>\(escape(label)): \(escape(text[index]))</title></rect>"
            svg += "<text x=\"\(f(left + max(length, 1) + 6))\" y=\"\(f(y + 14))\" class=\"value\">\(escape(text[index]))</text>"
        }
        return svg + "</svg>"
    }

    private static func open(id: String, title: String, description: String, width: Int, height: Int) -> String {
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\" viewBox=\"0 0 \(width) \(height)\" "
            + "width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">"
            + "<title id=\"\(id)-title\">\(escape(title))</title><desc id=\"\(id)-desc\">\(escape(description))</desc>"
    }

    private static func axis(left: Double, top: Double, plotHeight: Double, plotWidth: Double, maximum: Double) -> String {
        var svg = "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\" class=\"grid\"/>"
        for fraction in [0.5, 1.0] {
            let y = top + plotHeight * (1 - fraction)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"axis\">\(Int(maximum * fraction))</text>"
        }
        return svg
    }

    private static func legend(_ names: [String], y: Int) -> String {
        guard names.count > 1 else { return "" }
        var svg = ""
        for (index, name) in names.enumerated() {
            let x = 48 + index * 130
            svg += "<rect x=\"\(x)\" y=\"\(y - 10)\" width=\"10\" height=\"10\" fill=\"\(palette[index % palette.count])\"/>"
                + "<text x=\"\(x + 14)\" y=\"\(y)\" class=\"axis\">\(escape(name))</text>"
        }
        return svg
    }

    static func f(_ value: Double) -> String {
        String((value * 10).rounded() / 10)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
