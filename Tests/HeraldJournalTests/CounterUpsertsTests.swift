import Testing

@testable import HeraldPostgres

/// Counter upserts share one statement; each part's `$n` is moved past the values of the
/// parts before it.
struct CounterUpsertsTests {
    @Test(arguments: [
        ("SELECT $1", 0, "SELECT $1"),
        ("SELECT $1, $2::int8[], $10", 3, "SELECT $4, $5::int8[], $13"),
        ("unnest($1::text[], $2::int4[]) AS v(a, b) WHERE x = $3", 12, "unnest($13::text[], $14::int4[]) AS v(a, b) WHERE x = $15"),
        ("nothing to move", 7, "nothing to move"),
        ("ends with $9", 1, "ends with $10"),
    ])
    func renumbers(sql: String, offset: Int, expected: String) {
        #expect(CounterUpserts.renumbered(sql, by: offset) == expected)
    }

    @Test func partsTakeTheirValuesInOrder() {
        var upserts = CounterUpserts()
        #expect(upserts.isEmpty)
        upserts.add("INSERT INTO a SELECT $1, $2") { $0.append(Int64(1)); $0.append(Int64(2)) }
        upserts.add("INSERT INTO b SELECT $1") { $0.append("x") }
        #expect(!upserts.isEmpty)
        #expect(upserts.bindings.count == 3)
    }
}
