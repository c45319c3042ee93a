package fix

// LifecycleRuleOf exposes the live-rule conversion to the tests.
var LifecycleRuleOf = lifecycleRule
