import App
import Foundation

// Thin executable: all logic lives in the App target.
let code = await AgentStateApp.run(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(code)
