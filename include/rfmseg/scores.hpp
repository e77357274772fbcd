#pragma once
// scores: being written
