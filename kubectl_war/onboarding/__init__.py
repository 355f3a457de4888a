"""TSB OnboardingPolicies, read and evaluated locally (pure, no API server).

`policy` turns OnboardingPolicy objects into typed rules (refusing malformed ones by
name); `verdict` answers whether an identity may onboard into a WorkloadGroup, which
rule admits it or how near each rule came, and what each group's rules admit.
"""
