@testable import App

/// Parsing helpers for the configuration suites.
enum ServeConfiguration {
    /// The serve configuration `arguments` and `environment` parse to.
    static func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws(ConfigurationError) -> AppConfiguration {
        guard case .serve(let configuration) = try AppConfiguration.parse(arguments: arguments, environment: environment) else {
            throw ConfigurationError(message: "not a serve command")
        }
        return configuration
    }

    /// The exit-2 message, or nil when the configuration is accepted.
    static func error(_ arguments: [String], _ environment: [String: String] = [:]) -> String? {
        do {
            _ = try parse(arguments, environment)
            return nil
        } catch {
            return error.message
        }
    }
}
