import HTTPServer
import Telemetry

/// The per-request series, numbered so that a request reaches its handles by index (``SeriesTable``):
/// no label arrays, no hashing and no lock per request. The labels: the method (``methods``: anything
/// unknown is `other`), the route template (or `unmatched`), the status (one outside ``statuses`` falls
/// back to the family lookup), the store operation and its outcome (``outcomeSlot(forStatus:)``).
final class RequestSeries: Sendable {
    /// The method labels, in slot order; anything else is `other` (the last).
    static let methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "other"]
    /// The route labels, in slot order: every route, then `unmatched`.
    static let routes = Route.allCases.map(\.template) + ["unmatched"]
    /// The statuses with a slot of their own: every status the service answers with.
    static let statuses = [
        200, 201, 204, 206, 304, 400, 401, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416,
        417, 422, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505,
    ]
    /// The store outcomes, in slot order.
    static let outcomes = ["ok", "not_found", "conflict", "invalid", "error"]

    let httpRequests: SeriesTable<Counter>
    let httpDuration: SeriesTable<Histogram>
    let storeOperations: SeriesTable<Counter>
    let storeDuration: SeriesTable<Histogram>
    let storePayload: SeriesTable<Histogram>
    private let httpRequestsFamily: CounterFamily

    init(httpRequests: CounterFamily, httpDuration: HistogramFamily, storeOperations: CounterFamily,
         storeDuration: HistogramFamily, storePayload: HistogramFamily) {
        let methods = Self.methods, routes = Self.routes, statuses = Self.statuses
        let operations = StoreOperation.allCases.map(\.rawValue), outcomes = Self.outcomes
        httpRequestsFamily = httpRequests
        self.httpRequests = SeriesTable(count: methods.count * routes.count * statuses.count) { slot in
            let (routeAndMethod, status) = slot.quotientAndRemainder(dividingBy: statuses.count)
            let (method, route) = routeAndMethod.quotientAndRemainder(dividingBy: routes.count)
            return httpRequests.labels(methods[method], routes[route], String(statuses[status]))
        }
        self.httpDuration = SeriesTable(count: methods.count * routes.count) { slot in
            let (method, route) = slot.quotientAndRemainder(dividingBy: routes.count)
            return httpDuration.labels(methods[method], routes[route])
        }
        self.storeOperations = SeriesTable(count: operations.count * outcomes.count) { slot in
            let (operation, outcome) = slot.quotientAndRemainder(dividingBy: outcomes.count)
            return storeOperations.labels(operations[operation], outcomes[outcome])
        }
        self.storeDuration = SeriesTable(count: operations.count) { storeDuration.labels(operations[$0]) }
        self.storePayload = SeriesTable(count: operations.count) { storePayload.labels(operations[$0]) }
    }

    /// The method's slot: its label's index in ``methods``.
    static func methodSlot(_ method: HTTPMethod?) -> Int {
        switch method?.rawValue {
        case "GET": 0
        case "HEAD": 1
        case "PUT": 2
        case "POST": 3
        case "DELETE": 4
        case "PATCH": 5
        case "OPTIONS": 6
        default: 7
        }
    }

    /// The route's slot: its index in ``routes`` (`unmatched` for nil).
    static func routeSlot(_ route: Route?) -> Int {
        guard let route else { return routes.count - 1 }
        return Route.allCases.firstIndex(of: route)!
    }

    /// The operation's slot.
    static func operationSlot(_ operation: StoreOperation) -> Int {
        StoreOperation.allCases.firstIndex(of: operation)!
    }

    /// The outcome's slot (an index in ``outcomes``) of an HTTP status (DESIGN §7 "Metric labels").
    static func outcomeSlot(forStatus status: Int) -> Int {
        switch status {
        case 200..<300, 304: 0
        case 404: 1
        case 409, 412, 422: 2
        case 400..<500: 3
        default: 4
        }
    }

    /// Counts one answered request.
    func countRequest(method: Int, route: Int, status: Int) {
        guard let statusSlot = Self.statuses.firstIndex(of: status) else {
            httpRequestsFamily.labels(Self.methods[method], Self.routes[route], String(status)).increment()
            return
        }
        httpRequests[(method * Self.routes.count + route) * Self.statuses.count + statusSlot].increment()
    }

    /// The request-duration series of a method and route.
    func duration(method: Int, route: Int) -> Histogram {
        httpDuration[method * Self.routes.count + route]
    }

    /// Counts one store operation by its outcome.
    func countOperation(_ operation: StoreOperation, status: Int) {
        storeOperations[Self.operationSlot(operation) * Self.outcomes.count + Self.outcomeSlot(forStatus: status)].increment()
    }
}
