print("consentrec-bench: not yet")
