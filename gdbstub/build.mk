# Rules for gdbstub/: appended to $(ALL) and $(CLEAN) by the owner of this part.
