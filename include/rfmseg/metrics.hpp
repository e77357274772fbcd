#pragma once
// metrics: being written
