// Thin executable: all logic lives in the App target.
print("agentstate")
