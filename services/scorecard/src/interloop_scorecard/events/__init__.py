"""Events the scorecard service consumes and emits."""
