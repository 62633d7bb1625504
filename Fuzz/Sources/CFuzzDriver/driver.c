// The declaration in include/CFuzzDriver.h is all this target holds; a C target needs a source file.
#include "CFuzzDriver.h"
