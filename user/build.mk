# Rules for user/: appended to $(ALL) and $(CLEAN) by the owner of this part.
