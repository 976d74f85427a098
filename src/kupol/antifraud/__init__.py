"""Anti-fraud: transfers a bank asks about before executing them (hold or allow, with reasons);
call screening, call-centre exposure and synthetic voices come next (issue 9)."""
