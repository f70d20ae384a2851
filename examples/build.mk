# Rules for examples/: appended to $(ALL) and $(CLEAN) by the owner of this part.
